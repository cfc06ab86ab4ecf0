package dev.ivkit.demo;

import com.google.gson.Gson;
import dev.ivkit.IvkitException;
import dev.ivkit.continual.IvDynamics;
import dev.ivkit.demo.ContinualStage.Run;
import dev.ivkit.demo.ContinualStage.Stage;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelReplicas;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.SyntheticTasks;
import dev.ivkit.organism.SyntheticTasks.Task;
import dev.ivkit.report.ReportWriter;
import dev.ivkit.results.ResultsFile;
import dev.ivkit.results.Spread;
import dev.ivkit.results.StudyFiles;
import dev.ivkit.kernels.Parallel;
import dev.ivkit.util.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/**
 * {@code ivkit demo}: the IV study end to end on the model organism (see docs/demo.md).
 *
 * <ol>
 *   <li>Organism accuracies per task: 5-shot, instruction 0-shot, bare 0-shot ({@link Organism#evaluate}).
 *   <li>IV of every pretrained task: mean head outputs z over clean 5-shot prompts, EXACT CIE scan in ADD mode (the
 *       mean z added at the last token, as {@link IvDynamics#extract} and the IV authors' code do), top-k heads, IV.
 *       The IV is added to the bare 0-shot prompt at the residual stream after layer L, at the last prompt token
 *       only (the organism notes found adding at every generated token worse); k and L are chosen per task on
 *       validation queries (train-split words), the accuracy is reported on the test queries.
 *   <li>Continual fine-tuning on the first {@link DemoSettings#fineTuneTasks()} held-out tasks (rotl, prev, then
 *       droplast, caplast) in instruction format, a fresh LoRA per task merged after it, with the settings' methods
 *       (default naive, LwF (KL only), IV-guided and IV-guided without head preservation; {@code --full} adds lwf-pr,
 *       EWC, replay, O-LoRA and the frontier sweep), each over seeds. The IV-guided reference adds the new task's IV
 *       (chosen like the others) after its chosen layer.
 * </ol>
 * The accuracy matrix of {@code results.json} has 1 + N "tasks": the pretrained abilities (mean instruction 0-shot
 * accuracy over the pretrained tasks; "learned" by pretraining, row 0 = the organism), then the N fine-tuning tasks;
 * it is written by {@link ResultsFile}, the spreads over seeds of both files are {@link Spread}s.
 */
public final class Demo {
    static final Gson JSON = ResultsFile.JSON;
    static final long EVAL_SEED = 99, VAL_SEED = 5, IV_SEED = 11, TRAIN_SEED = 21;
    static final String PRETRAINED = "pretrained (instr. 0-shot)";
    static final double TEMPERATURE = 2.0;

    private final Path organismDir;
    private final dev.ivkit.model.Device device;
    private final Path out;
    private final DemoSettings s;
    private final PrintStream log;

    // filled by the organism / IV stages
    private final Map<String, InstructionVector> ivs = new LinkedHashMap<>();
    private final Map<String, Integer> bestLayer = new LinkedHashMap<>();
    private final Map<String, Boolean> everyToken = new LinkedHashMap<>();
    private final List<Object> heldIv = new ArrayList<>();

    public Demo(Path organismDir, Path out, DemoSettings settings, PrintStream log) {
        this(organismDir, out, settings, log, dev.ivkit.model.Device.CPU);
    }

    /**
     * As {@link #Demo(Path, Path, DemoSettings, PrintStream)}, with the fine-tuning runs' models on {@code device}
     * (the organism passed to {@link #run} should be loaded there too).
     */
    public Demo(Path organismDir, Path out, DemoSettings settings, PrintStream log, dev.ivkit.model.Device device) {
        this.device = device;
        this.organismDir = organismDir;
        this.out = out;
        this.s = settings;
        this.log = log;
    }

    /** Runs everything, writes summary.json, results.json, scan.json, eval.json and report.html; returns the summary. */
    public SummaryFile.Summary run(Organism org, ReportWriter.Footer footer) {
        mkdirs(out);
        SyntheticTasks tasks = org.tasks();
        CharTokenizer tok = org.tokenizer();
        IvChooser chooser = new IvChooser(tasks, tok, s);
        List<Task> pre = tasks.pretrainTasks(), held = sequence(tasks, s);
        DemoResults numbers = new DemoResults(pre, held, bestLayer, heldIv);
        LlamaModel model = org.model();
        try {
            // ---- 1. organism
            log.println("[demo 1/3] organism accuracies (" + s.evalPerTask() + " test queries per task)");
            List<Organism.TaskScores> scores = Organism.evaluate(model, tok, tasks, s.evalPerTask(), EVAL_SEED);
            // ---- 2. IVs
            log.println("[demo 2/3] IVs of the " + pre.size() + " pretrained tasks: exact CIE scan, top-k heads (k in "
                    + s.ivHeadChoices() + "), layer and IV positions (last prompt token, or every token)"
                    + " chosen on bare 0-shot validation queries");
            Map<String, Double> ivAcc = new LinkedHashMap<>();
            List<Object> initialIv = new ArrayList<>();
            // every task's IV (the held-out ones for the IV-guided regulariser: organism, 5-shot prompts), one model
            // replica per thread
            List<Task> ivTasks = new ArrayList<>(pre);
            ivTasks.addAll(held);
            List<IvChooser.IvChoice> choices;
            try (ModelReplicas replicas = new ModelReplicas(model)) {
                choices = Parallel.map(ivTasks, new Progress("IVs", ivTasks.size()), Task::name, t -> chooser.chooseIv(replicas.get(), t));
            }
            for (int i = 0; i < ivTasks.size(); i++) {
                Task t = ivTasks.get(i);
                IvChooser.IvChoice c = choices.get(i);
                ivs.put(t.name(), c.iv());
                bestLayer.put(t.name(), c.layer());
                everyToken.put(t.name(), c.everyToken());
                if (t.pretrain()) {
                    ivAcc.put(t.name(), c.testAccuracy());
                    initialIv.add(IvChooser.ivEntry(t, c));
                    if (i == 0) {
                        chooser.writeScanAndEval(out, model, t, c.iv(), c.val());
                    }
                } else {
                    heldIv.add(IvChooser.ivEntry(t, c));
                }
            }
            // scan validity of every pretrained task (a measurement; the IVs above do not depend on it)
            ScanValidityStage validity = new ScanValidityStage(tasks, tok, 3 * s.ivPrompts());
            List<List<ScanFile>> checks;
            try (ModelReplicas replicas = new ModelReplicas(model)) {
                checks = Parallel.map(pre, new Progress("scan validity", pre.size()), Task::name, t -> validity.scan(replicas.get(), t));
            }
            log.println("scan validity (mean z of clean 5-shot prompts patched into corrupted ones, REPLACE; significant ="
                    + " 95% bootstrap interval of the CIE above 0):");
            for (int i = 0; i < pre.size(); i++) {
                for (int d = 0; d < ScanValidityStage.DESIGNS.size(); d++) {
                    checks.get(i).get(d).write(out.resolve("validity").resolve(pre.get(i).name() + "-"
                            + ScanValidityStage.DESIGNS.get(d)).resolve("scan.json"));   // AtomicFiles makes the folders
                }
                log.println(ScanValidityStage.row(pre.get(i).name(), checks.get(i)));
            }
            DemoResults.OrganismSummary organism = numbers.organismSummary(scores, ivAcc);
            // ---- 3. continual
            log.println("[demo 3/3] continual fine-tuning on " + names(held) + ": " + String.join(", ", s.methods()) + " x "
                    + s.seeds() + " seeds, " + s.stepsPerTask() + " steps per task"
                    + (s.sweep().isEmpty() ? "" : "; frontier sweep of " + DemoSettings.SWEPT + " at strengths " + s.sweep()));
            ContinualStage continual = new ContinualStage(organismDir, device, out, s, tasks, tok, chooser, ivs, bestLayer, everyToken);
            Stage base = continual.measure(model, false, true);
            Map<String, List<Run>> runs = continual.runAll(base);
            StudyFiles.deleteTree(out.resolve("work"));
            StudyFiles.deleteTree(out.resolve(RunCache.FOLDER));
            ResultsFile.Results results = numbers.results(base, runs, initialIv, crossCosine(pre));
            ResultsFile.write(out.resolve("results.json"), results);
            String frontier = ReportWriter.frontierSvg(results);
            if (frontier != null) {
                dev.ivkit.util.AtomicFiles.writeString(out.resolve("frontier.svg"), frontier);
            }
            ReportWriter.claimLines(results).forEach(log::println);
            SummaryFile.Summary summary = SummaryFile.Summary.of(organism.all(), organism.byKind(), organism.tasks(),
                    numbers.methodSummary(base, runs), JSON.toJsonTree(s).getAsJsonObject(), DemoResults.definitions());
            SummaryFile.write(out.resolve("summary.json"), summary);
            new ReportWriter(out, footer)
                    .write(out.resolve("report.html"));
            return summary;
        } finally {
            ivs.values().forEach(InstructionVector::close);
            ivs.clear();
        }
    }

    // ------------------------------------------------------------------------------------------------ console

    /** The console table of a summary: the organism's accuracies, then every method's metrics (mean±std over seeds). */
    public static String table(SummaryFile.Summary summary) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-10s %8s %8s %8s %8s%n", "organism", "5-shot", "instr", "bare", "bare+IV"));
        for (String k : List.of("string", "lookup")) {
            sb.append(String.format("%-10s %s%n", k, accuracies(summary.byKind().get(k))));
        }
        sb.append(String.format("%-10s %s%n%n", "all", accuracies(summary.all())));
        List<String> cols = List.of("AP", "BWT", "new_task_accuracy", "instruction_accuracy_drop", "icl_accuracy_drop", "fine_tuned_bwt",
                "iv_recovery");
        sb.append(String.format("%-15s", "method"));
        for (String c : List.of("AP", "BWT", "new task", "instr acc drop", "5-shot drop", "FT-task BWT", "IV regained")) {
            sb.append(String.format(" %15s", c));
        }
        sb.append('\n');
        for (Map.Entry<String, Map<String, Spread>> e : summary.methods().entrySet()) {
            sb.append(String.format("%-15s", e.getKey()));
            for (String c : cols) {
                Spread v = e.getValue().get(c);
                sb.append(String.format(" %15s", v == null ? "n/a" : v.format("%.3f", "±")));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String accuracies(SummaryFile.Accuracies a) {
        return String.format("%8.3f %8.3f %8.3f %8.3f", d(a.icl()), d(a.instruction()), d(a.zeroShot()), d(a.zeroShotIv()));
    }

    private static double d(Double v) {
        return v == null ? Double.NaN : v;
    }

    /** Mean cosine between the IVs of different pretrained tasks (claim 2's control for the IV similarity). */
    private double crossCosine(List<Task> pre) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < pre.size(); i++) {
            for (int j = i + 1; j < pre.size(); j++) {
                sum += IvDynamics.cosine(ivs.get(pre.get(i).name()).vector(), ivs.get(pre.get(j).name()).vector());
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** The fine-tuning sequence: the first {@code s.fineTuneTasks()} held-out tasks, in order. */
    static List<Task> sequence(SyntheticTasks tasks, DemoSettings s) {
        List<Task> all = tasks.heldOutTasks();
        if (s.fineTuneTasks() > all.size()) {
            throw new dev.ivkit.InvalidArgumentException("fineTuneTasks", s.fineTuneTasks() + " fine-tuning tasks asked, the organism "
                    + "holds out " + all.size() + " (" + names(all) + ")");
        }
        return all.subList(0, s.fineTuneTasks());
    }

    static String names(List<Task> ts) {
        return String.join(", ", ts.stream().map(Task::name).toList());
    }

    private static void mkdirs(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new IvkitException("cannot create " + p + ": " + e.getMessage(), e);
        }
    }
}
