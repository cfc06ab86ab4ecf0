package dev.ivkit.demo;

import dev.ivkit.continual.IvDynamics;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.model.GreedyDecoder.ResidualIv;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.SyntheticTasks;
import dev.ivkit.organism.SyntheticTasks.Task;
import dev.ivkit.pipeline.Evaluation;
import dev.ivkit.results.EvalFile;
import dev.ivkit.util.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;

/**
 * Stage 2 of the demo: the organism's prompts of a task, and its IV with the head count, layer and positions chosen.
 *
 * @param tasks the organism's tasks
 * @param tok   its tokenizer
 * @param s     the demo's sizes
 */
record IvChooser(SyntheticTasks tasks, CharTokenizer tok, DemoSettings s) {
    private List<TokenizedPrompt> fewShotPrompts(Task t, int n, long seed) {
        List<TaskExample> pool = tasks.dataset(t, false, 64, seed).examples();
        List<TaskExample> queries = tasks.dataset(t, false, n, seed + 1).examples();
        Random r = new Random(seed * 31 + t.name().hashCode());
        List<TokenizedPrompt> out = new ArrayList<>();
        for (TaskExample q : queries) {
            List<TaskExample> demos = new ArrayList<>(pool);
            demos.remove(q);
            Collections.shuffle(demos, r);
            out.add(TokenizedPrompt.of(tok, SyntheticTasks.fewShot(demos.subList(0, Organism.SHOTS), q)));
        }
        return out;
    }

    /** The clean 5-shot prompts a task's IV is extracted from (the same every call). */
    List<TokenizedPrompt> ivPrompts(Task t) {
        return fewShotPrompts(t, s.ivPrompts(), Demo.IV_SEED);
    }

    List<Prompt> bare(Task t, boolean test, int n, long seed) {
        return tasks.dataset(t, test, n, seed).examples().stream().map(SyntheticTasks::bare).toList();
    }

    /** 5-shot prompts of the test queries of {@link #instruction} (demonstrations from the train split, seeded). */
    List<Prompt> fewShotTest(Task t, int n) {
        List<TaskExample> pool = tasks.dataset(t, false, 64, Demo.EVAL_SEED).examples();
        Random r = new Random(Demo.EVAL_SEED * 31 + t.name().hashCode());
        List<Prompt> out = new ArrayList<>();
        for (TaskExample q : tasks.dataset(t, true, n, Demo.EVAL_SEED).examples()) {
            List<TaskExample> demos = new ArrayList<>(pool);
            Collections.shuffle(demos, r);
            out.add(SyntheticTasks.fewShot(demos.subList(0, Organism.SHOTS), q));
        }
        return out;
    }

    List<Prompt> instruction(Task t, int n) {
        return tasks.dataset(t, true, n, Demo.EVAL_SEED).examples().stream().map(q -> SyntheticTasks.instruction(t, q)).toList();
    }

    /** A task's IV with the head count and layer chosen on validation queries, and the sweeps behind the choice. */
    record IvChoice(InstructionVector iv, int layer, boolean everyToken, List<Object> sweep, List<Object> all,
            List<Prompt> val, double testAccuracy) {}

    /**
     * One exact scan of the task's 5-shot prompts, then for each candidate head count k the IV of the top-k heads and a
     * layer sweep of bare 0-shot + IV on the validation queries (train words), with the IV at the last prompt token and
     * (pretrained tasks) also at every generated token; the (k, mode, layer) with the best validation accuracy (fewest
     * heads, then last-token-only on ties) is kept, and a pretrained task's bare 0-shot + IV accuracy on the test queries.
     */
    IvChoice chooseIv(LlamaModel model, Task t) {
        List<TokenizedPrompt> prompts = ivPrompts(t);
        List<Prompt> val = bare(t, false, s.valPerTask(), Demo.VAL_SEED);
        int layers = model.config().nLayers();
        int maxHeads = layers * model.config().nHeads();
        List<Object> all = new ArrayList<>();
        List<Object> sweep = new ArrayList<>();   // the chosen k's layer sweep, after the no-IV baseline
        sweep.add(Map.of("layer", -1, "top1", Organism.accuracy(model, tok, val)));
        List<Object> bestSweep = List.of();
        InstructionVector iv = null;
        int best = 0;
        boolean bestEvery = false;
        double bestAcc = -1;
        // where the IV goes while decoding: the last prompt token only (Todd et al.), or also every generated token (the
        // IV authors' generate); the held-out tasks' IVs guide training, which adds them at the last prompt token only
        List<Boolean> modes = t.pretrain() ? List.of(false, true) : List.of(false);
        for (int k : s.ivHeadChoices().stream().map(c -> Math.min(c, maxHeads)).distinct().sorted().toList()) {
            InstructionVector cand;
            try (PointerScope sc = new PointerScope()) {   // the IV's own tensors are retained past the scope
                cand = iv == null ? IvDynamics.extract(model, prompts, k, null, Map.of("task", t.name()))
                        : InstructionVector.build(model, iv.meanZ(), IvDynamics.map(iv.cie()), HeadRanking.top(IvDynamics.map(iv.cie()), k),
                                Map.of("task", t.name()));
            }
            boolean better = false;
            for (boolean every : modes) {
                List<Object> kSweep = new ArrayList<>();
                for (int l = 0; l < layers; l++) {
                    double a = Organism.accuracy(model, tok, val, new ResidualIv(cand.vector(), l, every));
                    kSweep.add(Map.of("layer", l, "top1", a));
                    all.add(Map.of("heads", k, "layer", l, "every_token", every, "top1", a));
                    if (a > bestAcc) {
                        bestAcc = a;
                        best = l;
                        bestEvery = every;
                        better = true;
                        bestSweep = kSweep;
                    }
                }
            }
            if (iv == null || better) {
                if (iv != null) {
                    iv.close();
                }
                iv = cand;
            } else {
                cand.close();
            }
        }
        sweep.addAll(bestSweep);
        // bare 0-shot + IV on the test queries (reported for the pretrained tasks)
        double test = t.pretrain() ? Organism.accuracy(model, tok, bare(t, true, s.evalPerTask(), Demo.EVAL_SEED),
                new ResidualIv(iv.vector(), best, bestEvery))
                : Double.NaN;
        return new IvChoice(iv, best, bestEvery, sweep, all, val, test);
    }

    static Map<String, Object> ivEntry(Task t, IvChoice c) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("task", t.name());
        e.put("layer", c.layer());
        e.put("every_token", c.everyToken());
        e.put("k", c.iv().heads().size());
        e.put("heads", c.iv().heads().stream().map(h -> List.of(h.layer(), h.head(), h.score())).toList());
        e.put("cie", IvDynamics.map(c.iv().cie()));
        e.put("layer_sweep_top1", c.sweep());   // here: greedy exact match of bare 0-shot + IV (chosen k) on the validation queries
        e.put("head_count_sweep", c.all());      // every (k, layer) tried, same measure
        return e;
    }

    /** scan.json shaped like {@code ivkit scan} output; eval.json as {@code ivkit evaluate --sweep} writes it ({@link EvalFile}). */
    void writeScanAndEval(Path out, LlamaModel model, Task t, InstructionVector iv, List<Prompt> val) {
        ScanFile.summary(t.name(), "exact", "add", s.ivPrompts(), s.ivPrompts(), IvDynamics.map(iv.cie()))
                .write(out.resolve("scan.json"));
        List<EvalFile.LayerScore> rows = new IvEvaluator(model, tok).sweep(val, iv.vector(), 1f, 0, false).stream()
                .map(Evaluation::score).toList();
        EvalFile.write(out.resolve(EvalFile.NAME), EvalFile.Eval.of(null, t.name(),
                new EvalFile.Run(null, val.size(), 0, 0, 1f, 0, null), Map.of(t.name() + " bare 0-shot + IV", rows)));
    }
}
