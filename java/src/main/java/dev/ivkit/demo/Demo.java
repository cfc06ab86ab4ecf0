package dev.ivkit.demo;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.ivkit.IvkitException;
import dev.ivkit.continual.ForgettingMetrics;
import dev.ivkit.continual.IvDynamics;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.kernels.KlDirection;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.ModelReplicas;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.SyntheticTasks;
import dev.ivkit.organism.SyntheticTasks.Kind;
import dev.ivkit.organism.SyntheticTasks.Task;
import dev.ivkit.report.ReportWriter;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.LrSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import dev.ivkit.util.AtomicFiles;
import dev.ivkit.util.Parallel;
import dev.ivkit.util.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

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
 *   <li>Continual fine-tuning on the held-out tasks (rotl, prev) in instruction format, a fresh LoRA per task merged
 *       after it, with naive, LwF (KL only), IV-guided and IV-guided without head preservation, each over seeds. The
 *       IV-guided reference adds the new task's IV (chosen like the others) after its chosen layer.
 * </ol>
 * The accuracy matrix of {@code results.json} has three "tasks": the pretrained abilities (mean instruction 0-shot
 * accuracy over the pretrained tasks; "learned" by pretraining, row 0 = the organism), then rotl and prev.
 */
public final class Demo {
    static final Gson JSON = new GsonBuilder().serializeNulls().setPrettyPrinting().disableHtmlEscaping().create();
    static final long EVAL_SEED = 99, VAL_SEED = 5, IV_SEED = 11, TRAIN_SEED = 21;
    static final String PRETRAINED = "pretrained (instr. 0-shot)";
    static final double TEMPERATURE = 2.0;

    private final Path organismDir;
    private final Path out;
    private final DemoSettings s;
    private final PrintStream log;

    // filled by the organism / IV stages
    private SyntheticTasks tasks;
    private CharTokenizer tok;
    private List<Task> pre, held;
    private final Map<String, InstructionVector> ivs = new LinkedHashMap<>();
    private final Map<String, Integer> bestLayer = new LinkedHashMap<>();
    private final Map<String, Boolean> everyToken = new LinkedHashMap<>();
    private final List<Object> heldIv = new ArrayList<>();

    public Demo(Path organismDir, Path out, DemoSettings settings, PrintStream log) {
        this.organismDir = organismDir;
        this.out = out;
        this.s = settings;
        this.log = log;
    }

    /** Runs everything, writes summary.json, results.json, scan.json, eval.json and report.html; returns the summary. */
    public Map<String, Object> run(Organism org, ReportWriter.Footer footer) {
        mkdirs(out);
        tasks = org.tasks();
        tok = org.tokenizer();
        pre = tasks.pretrainTasks();
        held = tasks.heldOutTasks();
        LlamaModel model = org.model();
        Map<String, Object> summary = new LinkedHashMap<>();
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
            List<IvChoice> choices;
            try (ModelReplicas replicas = new ModelReplicas(model)) {
                choices = Parallel.map(ivTasks, new Progress("IVs", ivTasks.size()), Task::name, t -> chooseIv(replicas.get(), t));
            }
            for (int i = 0; i < ivTasks.size(); i++) {
                Task t = ivTasks.get(i);
                IvChoice c = choices.get(i);
                ivs.put(t.name(), c.iv());
                bestLayer.put(t.name(), c.layer());
                everyToken.put(t.name(), c.everyToken());
                if (t.pretrain()) {
                    ivAcc.put(t.name(), c.testAccuracy());
                    initialIv.add(ivEntry(t, c));
                    if (i == 0) {
                        writeScanAndEval(model, t, c.iv(), c.val());
                    }
                } else {
                    heldIv.add(ivEntry(t, c));
                }
            }
            summary.putAll(organismSummary(scores, ivAcc));
            // ---- 3. continual
            log.println("[demo 3/3] continual fine-tuning on " + names(held) + ": " + String.join(", ", s.methods()) + " x "
                    + s.seeds() + " seeds, " + s.stepsPerTask() + " steps per task");
            Stage base = measure(model, false);
            Map<String, List<Run>> runs = runAll(base);
            deleteTree(out.resolve("work"));
            Map<String, Object> results = results(base, runs, initialIv, scores);
            AtomicFiles.writeString(out.resolve("results.json"), JSON.toJson(results) + "\n");
            summary.put("methods", methodSummary(base, runs));
            summary.put("settings", s);
            summary.put("definitions", definitions());
            AtomicFiles.writeString(out.resolve("summary.json"), JSON.toJson(summary) + "\n");
            new ReportWriter(out, footer)
                    .write(out.resolve("report.html"));
            return summary;
        } finally {
            ivs.values().forEach(InstructionVector::close);
            ivs.clear();
        }
    }

    // ------------------------------------------------------------------------------------------------ IVs

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

    private List<Prompt> bare(Task t, boolean test, int n, long seed) {
        return tasks.dataset(t, test, n, seed).examples().stream().map(SyntheticTasks::bare).toList();
    }

    private List<Prompt> instruction(Task t, int n) {
        return tasks.dataset(t, true, n, EVAL_SEED).examples().stream().map(q -> SyntheticTasks.instruction(t, q)).toList();
    }

    /** A task's IV with the head count and layer chosen on validation queries, and the sweeps behind the choice. */
    private record IvChoice(InstructionVector iv, int layer, boolean everyToken, List<Object> sweep, List<Object> all,
            List<Prompt> val, double testAccuracy) {}

    /**
     * One exact scan of the task's 5-shot prompts, then for each candidate head count k the IV of the top-k heads and a
     * layer sweep of bare 0-shot + IV on the validation queries (train words), with the IV at the last prompt token and
     * (pretrained tasks) also at every generated token; the (k, mode, layer) with the best validation accuracy (fewest
     * heads, then last-token-only on ties) is kept, and a pretrained task's bare 0-shot + IV accuracy on the test queries.
     */
    private IvChoice chooseIv(LlamaModel model, Task t) {
        List<TokenizedPrompt> prompts = fewShotPrompts(t, s.ivPrompts(), IV_SEED);
        List<Prompt> val = bare(t, false, s.valPerTask(), VAL_SEED);
        int layers = model.config().nLayers();
        int maxHeads = layers * model.config().nHeads();
        List<Object> all = new ArrayList<>();
        List<Object> sweep = new ArrayList<>();   // the chosen k's layer sweep, after the no-IV baseline
        sweep.add(Map.of("layer", -1, "top1", greedyAccuracy(model, val, null, -1, false)));
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
                    double a = greedyAccuracy(model, val, cand.vector(), l, every);
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
        double test = t.pretrain() ? greedyAccuracy(model, bare(t, true, s.evalPerTask(), EVAL_SEED), iv.vector(), best, bestEvery)
                : Double.NaN;
        return new IvChoice(iv, best, bestEvery, sweep, all, val, test);
    }

    private static Map<String, Object> ivEntry(Task t, IvChoice c) {
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

    /** scan.json and eval.json shaped like {@code ivkit scan} / {@code ivkit evaluate --sweep} output. */
    private void writeScanAndEval(LlamaModel model, Task t, InstructionVector iv, List<Prompt> val) {
        Map<String, Object> scan = new LinkedHashMap<>();
        scan.put("format", "ivkit-scan");
        scan.put("task", t.name());
        scan.put("method", "exact");
        scan.put("mode", "add");
        scan.put("layers", model.config().nLayers());
        scan.put("heads", model.config().nHeads());
        scan.put("prompts", s.ivPrompts());
        scan.put("mean_prompts", s.ivPrompts());
        scan.put("cie", IvDynamics.map(iv.cie()));
        AtomicFiles.writeString(out.resolve("scan.json"), JSON.toJson(scan) + "\n");
        List<Object> rows = new ArrayList<>();
        for (IvEvaluator.Result r : new IvEvaluator(model, tok).sweep(val, iv.vector(), 1f, 0, false)) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layer", r.layer());
            e.put("prompts", r.prompts());
            e.put("top1", r.top1());
            e.put("top2", r.top2());
            e.put("top3", r.top3());
            e.put("nll", r.nll());
            rows.add(e);
        }
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("format", "ivkit-evaluate");
        ev.put("task", t.name());
        ev.put("settings", Map.of(t.name() + " bare 0-shot + IV", rows));
        AtomicFiles.writeString(out.resolve("eval.json"), JSON.toJson(ev) + "\n");
    }

    // ------------------------------------------------------------------------------------------------ greedy

    /**
     * Exact-match accuracy of batched greedy answers, optionally with {@code iv} added after {@code layer} at the last
     * prompt token and, with {@code every}, also at every generated token.
     */
    double greedyAccuracy(LlamaModel model, List<Prompt> prompts, Tensor iv, int layer, boolean every) {
        if (iv == null) {
            return Organism.accuracy(model, tok, prompts);
        }
        List<String> answers = greedyAnswers(model, tok, prompts, iv, layer, every);
        int ok = 0;
        for (int i = 0; i < answers.size(); i++) {
            if (answers.get(i).equals(prompts.get(i).target())) {
                ok++;
            }
        }
        return (double) ok / answers.size();
    }

    /**
     * Batched greedy answers (up to the first newline, at most {@code MAX_ANSWER + 1} tokens) with {@code iv} added after
     * {@code layer} at the last prompt token and, with {@code every}, at every generated token; each step reruns the
     * left-padded batch without a cache.
     */
    static List<String> greedyAnswers(LlamaModel model, CharTokenizer tok, List<Prompt> prompts, Tensor iv, int layer, boolean every) {
        int end = tok.id(SyntheticTasks.END);
        int rows = prompts.size();
        List<List<Integer>> seqs = new ArrayList<>();
        StringBuilder[] ans = new StringBuilder[rows];
        boolean[] doneRow = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            List<Integer> q = new ArrayList<>();
            for (int id : tok.encode(prompts.get(i).text(), true)) {
                q.add(id);
            }
            seqs.add(q);
            ans[i] = new StringBuilder();
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (int step = 0; step <= SyntheticTasks.MAX_ANSWER; step++) {
                int len = 0;
                for (List<Integer> q : seqs) {
                    len = Math.max(len, q.size());
                }
                long[] ids = new long[rows * len], mask = new long[rows * len], pos = new long[rows];
                for (int i = 0; i < rows; i++) {
                    List<Integer> q = seqs.get(i);
                    int pad = len - q.size();
                    for (int j = 0; j < len; j++) {
                        ids[i * len + j] = j < pad ? tok.padId() : q.get(j - pad);
                        mask[i * len + j] = j < pad ? 0 : 1;
                    }
                    // the last prompt token of every unfinished row (left padding); a finished row (no longer growing,
                    // its answer already taken) gets its own last token so that the position is a real one
                    pos[i] = doneRow[i] ? len - 1 : len - step - 1;
                }
                long[] next;
                try (PointerScope sc = new PointerScope()) {
                    HookPlan.Builder b = HookPlan.builder().add(new ResidualAdd(HookSite.residPost(layer), Positions.of(pos), iv, 1f, null));
                    for (int j = 1; every && j <= step; j++) {   // the tokens generated so far by rows still generating
                        List<Integer> live = new ArrayList<>();
                        for (int i = 0; i < rows; i++) {
                            if (!doneRow[i]) {
                                live.add(i);
                            }
                        }
                        if (!live.isEmpty()) {
                            int[] sel = live.stream().mapToInt(Integer::intValue).toArray();
                            long[] at = new long[sel.length];
                            for (int i = 0; i < sel.length; i++) {
                                at[i] = pos[sel[i]] + j;
                            }
                            b.add(new ResidualAdd(HookSite.residPost(layer), Positions.of(at), iv, 1f, sel));
                        }
                    }
                    HookPlan plan = b.build();
                    Tensor logits = model.forward(torch.tensor(ids).reshape(rows, len), torch.tensor(mask).reshape(rows, len), plan, null,
                            LogitsMode.LAST).logits();
                    next = dev.ivkit.util.Torch.toLongArray(logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false));
                }
                boolean all = true;
                for (int i = 0; i < rows; i++) {
                    if (!doneRow[i]) {
                        int id = (int) next[i];
                        if (id == end) {
                            doneRow[i] = true;
                        } else {
                            ans[i].append(tok.decode(new int[] {id}));
                            seqs.get(i).add(id);
                        }
                    }
                    all &= doneRow[i];
                }
                if (all) {
                    break;
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (StringBuilder a : ans) {
            out.add(a.toString());
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ continual

    /** What is measured after a stage. */
    record Stage(double[] instr, double[] heldAcc, double[] knowledgeP, double[] instructionP, double[] withIv) {
        double meanInstr() {
            return mean(instr);
        }
    }

    record Run(List<Stage> stages, List<Double> trainLoss) {}

    /** Instruction accuracy of every task, probe probabilities of the pretrained tasks and (when asked) the pre-FT IV recovery. */
    private Stage measure(LlamaModel model, boolean recovery) {
        double[] instr = new double[pre.size()], kp = new double[pre.size()], ip = new double[pre.size()], with = new double[pre.size()];
        for (int j = 0; j < pre.size(); j++) {
            Task t = pre.get(j);
            List<Prompt> ins = instruction(t, s.evalPerTask());
            instr[j] = Organism.accuracy(model, tok, ins);
            List<TaskExample> qs = tasks.dataset(t, true, s.probePerTask(), EVAL_SEED).examples();
            KnowledgeProbe.Result k = new KnowledgeProbe(model, tok).run(qs.stream().map(SyntheticTasks::bare).toList(),
                    qs.stream().map(q -> SyntheticTasks.instruction(t, q)).toList());
            kp[j] = k.bare();
            ip[j] = k.instructed();
            with[j] = recovery ? greedyAccuracy(model, ins, ivs.get(t.name()).vector(), bestLayer.get(t.name()), everyToken.get(t.name()))
                    : Double.NaN;
        }
        double[] h = new double[held.size()];
        for (int j = 0; j < held.size(); j++) {
            h[j] = Organism.accuracy(model, tok, instruction(held.get(j), s.evalPerTask()));
        }
        return new Stage(instr, h, kp, ip, with);
    }

    /**
     * Every (method, seed) run of the continual stage, on as many threads as there are cores (each run loads its own
     * model and is single-threaded, with single-threaded BLAS while they run), collected in method-then-seed order:
     * the runs are independent, so the results do not depend on the thread count.
     */
    private Map<String, List<Run>> runAll(Stage base) {
        record Job(String method, int seed) {}
        List<Job> jobs = new ArrayList<>();
        for (String m : s.methods()) {
            for (int seed = 1; seed <= s.seeds(); seed++) {
                jobs.add(new Job(m, seed));
            }
        }
        boolean oneThread = Parallel.workers(jobs.size()) == 1;
        List<Run> done = Parallel.map(jobs, new Progress("fine-tuning", jobs.size()), j -> j.method() + " seed " + j.seed(),
                j -> runOne(j.method(), j.seed(), base, oneThread));
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            runs.computeIfAbsent(jobs.get(i).method(), k -> new ArrayList<>()).add(done.get(i));
        }
        return runs;
    }

    private Run runOne(String id, int seed, Stage base, boolean progressBars) {
        Path work = out.resolve("work").resolve(id + "-seed-" + seed);
        List<Stage> stages = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        stages.add(base);
        try (LlamaModel model = ModelLoader.load(organismDir, torch.ScalarType.Float)) {
            for (int k = 0; k < held.size(); k++) {
                Task t = held.get(k);
                long sd = seed * 1009L + k;
                List<TokenizedPrompt> data = new ArrayList<>();
                for (TaskExample e : tasks.dataset(t, false, s.trainExamples(), TRAIN_SEED + seed).examples()) {
                    data.add(TokenizedPrompt.of(tok, SyntheticTasks.instruction(t, e).text(), e.output() + SyntheticTasks.END));
                }
                TrainConfig cfg = new TrainConfig(s.lr(), LrSchedule.Kind.CONSTANT, 0, s.epochs(), s.batch(), 1, 1.0, 0.0, sd, 1000, 0,
                        Integer.MAX_VALUE);
                Regulariser reg = regulariser(id, model, ivs.get(t.name()), bestLayer.get(t.name()), s);
                try (LoraAdapter a = LoraAdapter.create(model.config(), new LoraConfig(8, 16, 0.0, s.loraTargets()), sd)) {
                    Trainer trainer = new Trainer(model, cfg, reg, work.resolve("task-" + k));
                    Trainer.Result r = (progressBars ? trainer : trainer.quiet()).train(a, data, null, false);
                    losses.add(r.losses().get(r.losses().size() - 1));
                    model.mergeAdapter();
                }
                stages.add(measure(model, true));
            }
        }
        deleteTree(work);
        return new Run(stages, losses);
    }

    private static Regulariser regulariser(String id, LlamaModel model, InstructionVector iv, int layer, DemoSettings s) {
        KlDirection kl = s.klDirection();
        return switch (id) {
            case "naive" -> null;
            case "lwf" -> new IvGuidedRegulariser(new IvGuidedRegulariser.Config(torch.zeros(model.config().dModel()), 0,
                    IvGuidedRegulariser.Site.ATTN_OUT, s.alpha1(), s.alpha2(), 0, TEMPERATURE, kl, false, List.of(),
                    new IvSchedule(IvSchedule.Kind.CONSTANT, 0, 0)));
            // the IV where it was chosen: after layer L (resid_post), the site of the bare 0-shot + IV evaluation
            case "iv-guided", "iv-guided-nopr" -> new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv.vector(), layer,
                    IvGuidedRegulariser.Site.RESID_POST, s.alpha1(), s.alpha2(), id.equals("iv-guided") ? s.alphaPr() : 0, TEMPERATURE,
                    kl, false, id.equals("iv-guided") ? iv.heads() : List.of(), null));
            default -> throw new IllegalArgumentException(id);
        };
    }

    // ------------------------------------------------------------------------------------------------ numbers

    /** The 3 × 3 accuracy matrix: columns pretrained abilities, rotl, prev; row 0 the organism, row k after task k. */
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
        double lost = base.meanInstr() - last.meanInstr();
        double regained = mean(last.withIv()) - last.meanInstr();
        m.put("iv_recovery", lost >= 0.02 ? regained / lost : Double.NaN);
        m.put("iv_recovery_points", regained);
        return m;
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

    private Map<String, Object> methodSummary(Stage base, Map<String, List<Run>> runs) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<Run>> e : runs.entrySet()) {
            List<Map<String, Double>> per = e.getValue().stream().map(r -> metrics(base, r)).toList();
            Map<String, Object> mm = new LinkedHashMap<>();
            for (String k : per.get(0).keySet()) {
                mm.put(k, spread(per.stream().mapToDouble(x -> x.get(k)).toArray()));
            }
            out.put(e.getKey(), mm);
        }
        return out;
    }

    /** {mean, std (sample), n} over the finite values; null where none. */
    static Map<String, Object> spread(double[] v) {
        double[] f = java.util.Arrays.stream(v).filter(Double::isFinite).toArray();
        double mean = java.util.Arrays.stream(f).average().orElse(Double.NaN);
        double var = 0;
        for (double x : f) {
            var += (x - mean) * (x - mean);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", num(mean));
        m.put("std", f.length > 1 ? num(Math.sqrt(var / (f.length - 1))) : f.length == 1 ? Double.valueOf(0) : null);
        m.put("n", f.length);
        return m;
    }

    static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }

    static double mean(double[] v) {
        return java.util.Arrays.stream(v).average().orElse(Double.NaN);
    }

    private Map<String, Object> organismSummary(List<Organism.TaskScores> scores, Map<String, Double> ivAcc) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("icl_accuracy", Organism.mean(scores, null, Organism.TaskScores::fewShot));
        m.put("instruction_accuracy", Organism.mean(scores, null, Organism.TaskScores::instruction));
        m.put("zero_shot_accuracy", Organism.mean(scores, null, Organism.TaskScores::bare));
        m.put("zero_shot_iv_accuracy", ivAcc.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
        Map<String, Object> byKind = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("icl_accuracy", Organism.mean(scores, k, Organism.TaskScores::fewShot));
            e.put("instruction_accuracy", Organism.mean(scores, k, Organism.TaskScores::instruction));
            e.put("zero_shot_accuracy", Organism.mean(scores, k, Organism.TaskScores::bare));
            e.put("zero_shot_iv_accuracy", pre.stream().filter(t -> t.kind() == k).mapToDouble(t -> ivAcc.get(t.name())).average()
                    .orElse(Double.NaN));
            byKind.put(k.name().toLowerCase(), e);
        }
        m.put("by_kind", byKind);
        List<Object> per = new ArrayList<>();
        for (Organism.TaskScores sc : scores) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", sc.task());
            e.put("kind", sc.kind().name().toLowerCase());
            e.put("pretrain", sc.pretrain());
            e.put("icl_accuracy", sc.fewShot());
            e.put("instruction_accuracy", sc.instruction());
            e.put("zero_shot_accuracy", sc.bare());
            e.put("zero_shot_iv_accuracy", ivAcc.get(sc.task()));
            e.put("iv_layer", bestLayer.get(sc.task()));
            per.add(e);
        }
        m.put("tasks", per);
        return m;
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
        d.put("iv_recovery", "pre-fine-tuning IVs added to the fine-tuned model on the instruction prompts: (accuracy with IV "
                + "- accuracy without) / (accuracy before fine-tuning - accuracy without), pooled over the pretrained tasks; "
                + "seeds with less than 2 points lost are left out (n says how many remain)");
        d.put("iv_recovery_points", "accuracy with IV - accuracy without, after the sequence");
        return d;
    }

    // ------------------------------------------------------------------------------------------------ results.json

    private Map<String, Object> results(Stage base, Map<String, List<Run>> runs, List<Object> initialIv,
            List<Organism.TaskScores> scores) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("sequence", "organism: " + names(held));
        List<String> taskNames = new ArrayList<>(List.of(PRETRAINED));
        held.forEach(t -> taskNames.add(t.name()));
        r.put("tasks", taskNames);
        r.put("task_metrics", taskNames.stream().map(x -> "em").toList());
        r.put("definitions", definitions());
        Map<String, Object> init = new LinkedHashMap<>();
        init.put("accuracy", initialRow(base));
        init.put("iv", initialIv);
        init.put("fine_tuning_iv", heldIv);   // the regulariser's IVs of the new tasks, chosen the same way
        List<Object> kn = new ArrayList<>();
        for (int j = 0; j < pre.size(); j++) {
            kn.add(Map.of("task", pre.get(j).name(), "knowledge_p", base.knowledgeP()[j], "instruction_p", base.instructionP()[j]));
        }
        init.put("knowledge", kn);
        r.put("initial", init);
        Map<String, Object> ms = new LinkedHashMap<>();
        for (Map.Entry<String, List<Run>> e : runs.entrySet()) {
            Map<String, Object> perSeed = new LinkedHashMap<>();
            List<ForgettingMetrics.Summary> sums = new ArrayList<>();
            for (int i = 0; i < e.getValue().size(); i++) {
                Run run = e.getValue().get(i);
                double[][] mat = matrix(run);
                ForgettingMetrics.Summary f = ForgettingMetrics.of(mat, initialRow(base));
                sums.add(f);
                Map<String, Object> so = new LinkedHashMap<>();
                so.put("accuracy_matrix", mat);
                so.put("AP", num(f.ap()));
                so.put("BWT", num(f.bwt()));
                so.put("FWT", num(f.fwt()));
                so.put("train_loss_last", run.trainLoss());
                so.put("iv_dynamics", dynamics(base, run));
                so.put("per_task_instruction_accuracy", run.stages().stream().map(Stage::instr).toList());
                perSeed.put(Integer.toString(i + 1), so);
            }
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("seeds", perSeed);
            mm.put("summary", Map.of("AP", spread(sums.stream().mapToDouble(ForgettingMetrics.Summary::ap).toArray()),
                    "BWT", spread(sums.stream().mapToDouble(ForgettingMetrics.Summary::bwt).toArray()),
                    "FWT", spread(sums.stream().mapToDouble(ForgettingMetrics.Summary::fwt).toArray())));
            ms.put(e.getKey(), mm);
        }
        r.put("methods", ms);
        return r;
    }

    /** Per stage k ≥ 1: the pretrained abilities' accuracy, recovery and probe (task 0) and the new tasks' accuracy. */
    private List<Object> dynamics(Stage base, Run run) {
        List<Object> out = new ArrayList<>();
        for (int k = 1; k < run.stages().size(); k++) {
            Stage st = run.stages().get(k);
            List<Object> row = new ArrayList<>();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", PRETRAINED);
            e.put("task_index", 0);
            e.put("accuracy", st.meanInstr());
            double lost = base.meanInstr() - st.meanInstr();
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("accuracy_with_pre_iv", num(mean(st.withIv())));
            rec.put("lost", lost);
            rec.put("share_regained", lost >= 0.02 ? num((mean(st.withIv()) - st.meanInstr()) / lost) : null);
            e.put("recovery", rec);
            Map<String, Object> kp = new LinkedHashMap<>();
            kp.put("knowledge_p", mean(st.knowledgeP()));
            kp.put("instruction_p", mean(st.instructionP()));
            e.put("knowledge", kp);
            row.add(e);
            for (int j = 0; j < k; j++) {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("task", held.get(j).name());
                h.put("task_index", j + 1);
                h.put("accuracy", st.heldAcc()[j]);
                row.add(h);
            }
            out.add(row);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ console

    /** The console table of a summary. */
    @SuppressWarnings("unchecked")
    public static String table(Map<String, Object> summary) {
        StringBuilder sb = new StringBuilder();
        Map<String, Object> byKind = (Map<String, Object>) summary.get("by_kind");
        sb.append(String.format("%-10s %8s %8s %8s %8s%n", "organism", "5-shot", "instr", "bare", "bare+IV"));
        for (String k : List.of("string", "lookup")) {
            Map<String, Object> e = (Map<String, Object>) byKind.get(k);
            sb.append(String.format("%-10s %8.3f %8.3f %8.3f %8.3f%n", k, d(e.get("icl_accuracy")), d(e.get("instruction_accuracy")),
                    d(e.get("zero_shot_accuracy")), d(e.get("zero_shot_iv_accuracy"))));
        }
        sb.append(String.format("%-10s %8.3f %8.3f %8.3f %8.3f%n%n", "all", d(summary.get("icl_accuracy")),
                d(summary.get("instruction_accuracy")), d(summary.get("zero_shot_accuracy")), d(summary.get("zero_shot_iv_accuracy"))));
        List<String> cols = List.of("AP", "BWT", "new_task_accuracy", "instruction_drop", "knowledge_drop", "iv_recovery");
        sb.append(String.format("%-15s", "method"));
        for (String c : List.of("AP", "BWT", "new task", "instr drop", "know drop", "IV recovery")) {
            sb.append(String.format(" %15s", c));
        }
        sb.append('\n');
        for (Map.Entry<String, Object> e : ((Map<String, Object>) summary.get("methods")).entrySet()) {
            sb.append(String.format("%-15s", e.getKey()));
            Map<String, Object> m = (Map<String, Object>) e.getValue();
            for (String c : cols) {
                Map<String, Object> v = (Map<String, Object>) m.get(c);
                Object mean = v.get("mean"), sd = v.get("std");
                sb.append(String.format(" %15s", mean == null ? "n/a" : sd == null ? String.format("%.3f", d(mean))
                        : String.format("%.3f±%.3f", d(mean), d(sd))));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static double d(Object o) {
        return o == null ? Double.NaN : ((Number) o).doubleValue();
    }

    private static String names(List<Task> ts) {
        return String.join(", ", ts.stream().map(Task::name).toList());
    }

    private static void mkdirs(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new IvkitException("cannot create " + p + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> st = Files.walk(p)) {
            for (Path q : st.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new IvkitException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
