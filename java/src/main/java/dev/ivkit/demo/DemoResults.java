package dev.ivkit.demo;

import dev.ivkit.eval.ForgettingMetrics;
import dev.ivkit.demo.ContinualStage.Run;
import dev.ivkit.demo.ContinualStage.Stage;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.SyntheticTasks.Kind;
import dev.ivkit.organism.SyntheticTasks.Task;
import dev.ivkit.results.RecoveryScore;
import dev.ivkit.results.ResultsFile;
import dev.ivkit.results.Spread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The demo's numbers: the organism and per-method summaries of summary.json and the study of results.json. */
final class DemoResults {
    private final List<Task> pre, held;
    private final Map<String, Integer> bestLayer;
    private final List<Object> heldIv;

    /** {@code heldIv}: the IV entries of the fine-tuning tasks; {@code bestLayer}: every task's chosen IV layer. */
    DemoResults(List<Task> pre, List<Task> held, Map<String, Integer> bestLayer, List<Object> heldIv) {
        this.pre = pre;
        this.held = held;
        this.bestLayer = bestLayer;
        this.heldIv = heldIv;
    }

    /** The (1 + N) × (1 + N) accuracy matrix: columns the pretrained abilities, then the fine-tuning tasks; row 0 the organism, row k after task k. */
    double[][] matrix(Run r) {
        double[][] m = new double[r.stages().size()][];
        for (int i = 0; i < m.length; i++) {
            Stage st = r.stages().get(i);
            m[i] = new double[1 + held.size()];
            m[i][0] = st.meanInstr();
            System.arraycopy(st.heldAcc(), 0, m[i], 1, held.size());
        }
        return m;
    }

    double[] initialRow(Stage base) {
        double[] b = new double[1 + held.size()];
        b[0] = base.meanInstr();
        System.arraycopy(base.heldAcc(), 0, b, 1, held.size());
        return b;
    }

    /** Per-run scalar metrics of the summary (see {@link #definitions()}). */
    Map<String, Double> metrics(Stage base, Run r) {
        double[][] mat = matrix(r);
        ForgettingMetrics.Summary f = ForgettingMetrics.of(mat, initialRow(base));
        Stage last = r.stages().get(r.stages().size() - 1);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("AP", f.ap());
        m.put("BWT", f.bwt());
        double nt = 0;
        for (int k = 0; k < held.size(); k++) {
            nt += mat[k + 1][k + 1];
        }
        m.put("new_task_accuracy", nt / held.size());
        m.put("instruction_drop", meanKind(base.instructionP(), Kind.STRING) - meanKind(last.instructionP(), Kind.STRING));
        m.put("knowledge_drop", meanKind(base.instructionP(), Kind.LOOKUP) - meanKind(last.instructionP(), Kind.LOOKUP));
        m.put("pretrained_accuracy_change", last.meanInstr() - base.meanInstr());
        m.put("instruction_accuracy_drop", base.meanInstr() - last.meanInstr());
        m.put("icl_accuracy_drop", Stage.mean(base.icl()) - Stage.mean(last.icl()));
        m.put("fine_tuned_bwt", fineTunedBwt(mat));
        if (last.sim() != null) {
            m.put("pretrained_iv_cosine", Stage.mean(last.sim().preCosine()));
            m.put("pretrained_head_jaccard", Stage.mean(last.sim().preJaccard()));
        }
        ResultsFile.Recovery rec = recovery(base, last);
        m.put("iv_recovery", rec.regained());
        m.put(SummaryFile.RECOVERY_SHARE, rec.shareRegained() == null ? Double.NaN : rec.shareRegained());
        return m;
    }

    /** BWT over the fine-tuning tasks only (matrix columns 1..): mean of R[T][j] − R[j][j] over j &lt; T; NaN for one task. */
    static double fineTunedBwt(double[][] mat) {
        int t = mat.length - 1;
        double sum = 0;
        for (int j = 1; j < t; j++) {
            sum += mat[t][j] - mat[j][j];
        }
        return t < 2 ? Double.NaN : sum / (t - 1);
    }

    /** The pooled recovery test of stage {@code st}: the pretrained abilities' mean accuracies ({@link RecoveryScore}). */
    private static ResultsFile.Recovery recovery(Stage base, Stage st) {
        return RecoveryScore.of(base.meanInstr(), st.meanInstr(), Stage.mean(st.withIv()));
    }

    private double meanKind(double[] v, Kind k) {
        double sum = 0;
        int n = 0;
        for (int j = 0; j < pre.size(); j++) {
            if (pre.get(j).kind() == k) {
                sum += v[j];
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Per method, every metric's spread over the seeds. */
    Map<String, Map<String, Spread>> methodSummary(Stage base, Map<String, List<Run>> runs) {
        Map<String, Map<String, Spread>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<Run>> e : runs.entrySet()) {
            List<Map<String, Double>> per = e.getValue().stream().map(r -> metrics(base, r)).toList();
            Map<String, Spread> mm = new LinkedHashMap<>();
            for (String k : per.get(0).keySet()) {
                mm.put(k, Spread.of(per, x -> x.get(k)));
            }
            out.put(e.getKey(), mm);
        }
        return out;
    }

    /** The organism part of summary.json: accuracies over all pretrained tasks, per kind and per task. */
    record OrganismSummary(SummaryFile.Accuracies all, Map<String, SummaryFile.Accuracies> byKind, List<SummaryFile.TaskSummary> tasks) {}

    OrganismSummary organismSummary(List<Organism.TaskScores> scores, Map<String, Double> ivAcc) {
        SummaryFile.Accuracies all = SummaryFile.Accuracies.of(Organism.mean(scores, null, Organism.TaskScores::fewShot),
                Organism.mean(scores, null, Organism.TaskScores::instruction), Organism.mean(scores, null, Organism.TaskScores::bare),
                ivAcc.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
        Map<String, SummaryFile.Accuracies> byKind = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            byKind.put(k.name().toLowerCase(), SummaryFile.Accuracies.of(Organism.mean(scores, k, Organism.TaskScores::fewShot),
                    Organism.mean(scores, k, Organism.TaskScores::instruction), Organism.mean(scores, k, Organism.TaskScores::bare),
                    pre.stream().filter(t -> t.kind() == k).mapToDouble(t -> ivAcc.get(t.name())).average().orElse(Double.NaN)));
        }
        List<SummaryFile.TaskSummary> per = new ArrayList<>();
        for (Organism.TaskScores sc : scores) {
            Double iv = ivAcc.get(sc.task());
            per.add(new SummaryFile.TaskSummary(sc.task(), sc.kind().name().toLowerCase(), sc.pretrain(), Spread.num(sc.fewShot()),
                    Spread.num(sc.instruction()), Spread.num(sc.bare()), iv == null ? null : Spread.num(iv), bestLayer.get(sc.task())));
        }
        return new OrganismSummary(all, byKind, per);
    }

    static Map<String, String> definitions() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("icl_accuracy", "5-shot greedy exact match, mean over the pretrained tasks (test words)");
        d.put("instruction_accuracy", "instruction 0-shot ([task]x>) exact match, mean over the pretrained tasks");
        d.put("zero_shot_accuracy", "bare 0-shot (x>) exact match, mean over the pretrained tasks");
        d.put("zero_shot_iv_accuracy", "bare 0-shot with the task's IV (top-k heads, k and the layer chosen together on "
                + "validation queries) added after that layer, last prompt token, scale 1");
        d.put("accuracy_matrix", "columns: pretrained abilities (mean instruction 0-shot over the pretrained tasks), then the "
                + "fine-tuning tasks; row 0 = the organism, row k = after fine-tuning task k");
        d.put("AP", "mean of the last row of the accuracy matrix");
        d.put("BWT", "GEM backward transfer over that matrix: mean over columns j < T-1 of R[T-1][j] - R[j][j] "
                + "(the pretrained abilities count as task 0)");
        d.put("pretrained_accuracy_change", "mean instruction 0-shot accuracy of the pretrained tasks after the sequence minus before");
        d.put("new_task_accuracy", "accuracy of each fine-tuning task right after training on it, mean over the tasks");
        d.put("instruction_drop", "mean P(y | [task] x) (KnowledgeProbe, geometric-mean token probability) over the pretrained "
                + "string tasks, before minus after the sequence (positive = drop)");
        d.put("knowledge_drop", "the same over the lookup (knowledge) tasks");
        d.put("instruction_accuracy_drop", "claim 1's instruction following: mean instruction 0-shot accuracy of the pretrained "
                + "tasks before minus after the sequence (= -pretrained_accuracy_change)");
        d.put("icl_accuracy_drop", "claim 1's knowledge (the task's function P(y | x, theta) with theta shown by 5 "
                + "demonstrations instead of the instruction): mean 5-shot accuracy of the pretrained tasks before minus after");
        d.put("fine_tuned_bwt", "forgetting of the earlier fine-tuned tasks only: mean over fine-tuning tasks j before the last "
                + "of R[T][j] - R[j][j] (null with one fine-tuning task)");
        d.put("pretrained_iv_cosine", "after the sequence: mean over the pretrained tasks of the cosine of the re-extracted IV to "
                + "the organism's (same prompts and heads); initial.iv_cross_cosine is the control: the mean cosine between "
                + "different pretrained tasks' IVs on the organism");
        d.put("pretrained_head_jaccard", "after the sequence: mean over the pretrained tasks of head_jaccard");
        d.put("iv_recovery", "points regained: the pre-fine-tuning IVs added to the model after the sequence on the "
                + "instruction prompts, mean accuracy over the pretrained tasks with the IVs - without them (absolute, "
                + "negative when the IVs hurt)");
        d.put(SummaryFile.RECOVERY_SHARE, "share of the lost accuracy regained: iv_recovery / (mean accuracy before fine-tuning - "
                + "after the sequence), defined only for seeds that lost at least " + RecoveryScore.LOST_FLOOR
                + " (then in [-1, 2]); the other seeds are counted in nan");
        d.put("recovery", "results.json iv_dynamics, the pretrained abilities after each task: " + RecoveryScore.DEFINITION);
        d.put("iv_cosine", "results.json iv_dynamics: each task's IV re-extracted on the fine-tuned model (same 5-shot prompts "
                + "and heads) against the organism's, cosine; for the pretrained abilities the mean over the pretrained tasks");
        d.put("head_jaccard", "the same re-extraction: overlap of the organism IV's k heads with the top-k heads of the new "
                + "CIE scan (|A and B| / |A or B|)");
        d.put("knowledge_by_task", "results.json iv_dynamics, the pretrained abilities: the knowledge probe of each pretrained "
                + "task (its entry's knowledge is their mean)");
        return d;
    }

    // results.json

    /** {@code crossCosine}: the mean cosine between different pretrained tasks' IVs on the organism (claim 2's control). */
    ResultsFile.Results results(Stage base, Map<String, List<Run>> runs, List<Object> initialIv, double crossCosine) {
        List<String> taskNames = new ArrayList<>(List.of(Demo.PRETRAINED));
        held.forEach(t -> taskNames.add(t.name()));
        Map<String, Object> init = new LinkedHashMap<>();
        init.put("accuracy", initialRow(base));
        init.put("iv", initialIv);
        init.put("fine_tuning_iv", heldIv);   // the regulariser's IVs of the new tasks, chosen the same way
        List<Object> kn = new ArrayList<>();
        for (int j = 0; j < pre.size(); j++) {
            kn.add(Map.of("task", pre.get(j).name(), "knowledge_p", base.knowledgeP()[j], "instruction_p", base.instructionP()[j]));
        }
        init.put("knowledge", kn);
        init.put("icl_accuracy", Spread.num(Stage.mean(base.icl())));
        init.put("iv_cross_cosine", Spread.num(crossCosine));
        Map<String, ResultsFile.MethodResults> ms = new LinkedHashMap<>();
        for (Map.Entry<String, List<Run>> e : runs.entrySet()) {
            Map<String, ResultsFile.SeedResults> perSeed = new LinkedHashMap<>();
            for (int i = 0; i < e.getValue().size(); i++) {
                Run run = e.getValue().get(i);
                perSeed.put(Integer.toString(i + 1), ResultsFile.SeedResults.of(matrix(run), initialRow(base), run.trainLoss(), null,
                        dynamics(base, run), run.stages().stream().map(Stage::instr).toList()));
            }
            ms.put(e.getKey(), ResultsFile.MethodResults.of(perSeed));
        }
        return ResultsFile.Results.of("organism: " + Demo.names(held), taskNames, taskNames.stream().map(x -> "em").toList(),
                definitions(), null, init, ms);
    }

    private static void similarity(Map<String, Object> e, double cosine, double jaccard) {
        e.put("iv_cosine", Spread.num(cosine));
        e.put("head_jaccard", Spread.num(jaccard));
    }

    /**
     * Per stage k ≥ 1: the pretrained abilities' accuracy, IV similarity, recovery and probe (task 0, also per pretrained
     * task) and the new tasks' accuracy and IV similarity.
     */
    List<Object> dynamics(Stage base, Run run) {
        List<Object> out = new ArrayList<>();
        for (int k = 1; k < run.stages().size(); k++) {
            Stage st = run.stages().get(k);
            List<Object> row = new ArrayList<>();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", Demo.PRETRAINED);
            e.put("task_index", 0);
            e.put("accuracy", st.meanInstr());
            similarity(e, Stage.mean(st.sim().preCosine()), Stage.mean(st.sim().preJaccard()));
            if (Double.isFinite(Stage.mean(st.withIv()))) {   // a sweep point measures it after the last task only
                e.put("recovery", RecoveryScore.json(recovery(base, st)));
            }
            Map<String, Object> kp = new LinkedHashMap<>();
            kp.put("knowledge_p", Stage.mean(st.knowledgeP()));
            kp.put("instruction_p", Stage.mean(st.instructionP()));
            e.put("knowledge", kp);
            List<Object> byTask = new ArrayList<>();
            for (int j = 0; j < pre.size(); j++) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("task", pre.get(j).name());
                t.put("knowledge_p", st.knowledgeP()[j]);
                t.put("instruction_p", st.instructionP()[j]);
                byTask.add(t);
            }
            e.put("knowledge_by_task", byTask);
            e.put("icl_accuracy", Spread.num(Stage.mean(st.icl())));
            row.add(e);
            for (int j = 0; j < k; j++) {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("task", held.get(j).name());
                h.put("task_index", j + 1);
                h.put("accuracy", st.heldAcc()[j]);
                similarity(h, st.sim().heldCosine()[j], st.sim().heldJaccard()[j]);
                row.add(h);
            }
            out.add(row);
        }
        return out;
    }
}
