package dev.ivkit.continual;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.reflect.TypeToken;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.eval.MultipleChoiceEval;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.kernels.KlDirection;
import dev.ivkit.train.LrSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Runs a continual-learning study ({@link SequenceSpec}) and writes {@code OUT/results.json}.
 *
 * <p><b>Protocol</b> (the IV authors', method-spec §4.5): for each method and seed, start from the base model; for
 * each task in order attach a fresh LoRA adapter (seeded), train it on the task (plus the method's regulariser or
 * replayed data), merge it into the weights. After each task every task of the sequence is evaluated on its capped
 * test set → row i of the accuracy matrix R; the multiple-choice general sets are scored; and for every task
 * trained so far (j ≤ i) the IV dynamics are measured against the task's IV on the base model ("pre-fine-tuning
 * IV"): cosine of the IV recomputed now with the same heads, Jaccard overlap of the top-k heads, Spearman
 * correlation and relative L2 change of the CIE map, the recovery test (j &lt; i: the base IV added at the IV layer
 * of the current model; share of the accuracy lost since task j was learned that it regains) and the knowledge probe
 * (P(y|x) vs P(y|c,x)).
 *
 * <p><b>Scores</b> per task ({@code metric}): {@code first_token} = teacher-forced accuracy of the first answer token
 * (classification tasks whose labels differ in their first token; cheap, no generation), {@code em} = exact match of
 * the greedy answer, {@code rouge_l} = ROUGE-L F of the greedy answer (generation tasks; as the authors score every
 * task), with the task's {@code max_new_tokens}. All scores are in [0, 1].
 *
 * <p><b>Shared pre-training measurements</b> (initial accuracies b_j for FWT, base IVs, layer sweep, base knowledge
 * probe and general scores) are computed once into {@code OUT/initial.json} and {@code OUT/initial/iv-J/}.
 *
 * <p><b>Resuming</b>: after each task the run's {@code OUT/runs/METHOD/seed-S/state.json} is replaced atomically
 * (adapters in {@code task-K/adapter}, EWC's summed Fisher in {@code fisher-K.safetensors}). A re-run merges the saved
 * adapters in order, rebuilds the method's memory (O-LoRA's A matrices, the replay buffer, the Fisher) and continues
 * with the next task; an interrupted task is redone from its start. Everything is seeded and {@code results.json} is
 * composed from the files only (no timings; those go to {@code timings.json}), so on CPU a resumed study writes
 * the same {@code results.json} as an uninterrupted one.
 */
public final class SequenceRunner {
    /** Called after each task's state is saved (tests use it to simulate a kill between tasks). */
    public interface TaskHook {
        void afterTask(Method method, long seed, int taskIndex);
    }

    static final Gson JSON = new GsonBuilder().serializeNulls().setPrettyPrinting().disableHtmlEscaping().create();

    private final SequenceSpec spec;
    private final Path dataRoot;
    private final Path modelPath;
    private final Path tokenizerPath;
    private final Path out;
    private TaskHook hook;
    private PrintStream log = System.err;
    private final Map<String, Object> timings = new LinkedHashMap<>();

    public SequenceRunner(SequenceSpec spec, Path dataRoot, Path modelPath, Path tokenizerPath, Path out) {
        this.spec = spec;
        this.dataRoot = dataRoot;
        this.modelPath = modelPath;
        this.tokenizerPath = tokenizerPath;
        this.out = out;
    }

    public SequenceRunner afterTask(TaskHook h) {
        this.hook = h;
        return this;
    }

    public SequenceRunner log(PrintStream p) {
        this.log = p;
        return this;
    }

    /** Runs (or continues) every method × seed and writes {@code results.json}; returns its path. */
    public Path run(List<Method> methods, List<Long> seeds) {
        if (methods.isEmpty() || seeds.isEmpty()) {
            throw new InvalidArgumentException("methods/seeds", "need at least one method and one seed");
        }
        mkdirs(out);
        try (Tokenizer tok = Tokenizer.load(tokenizerPath)) {
            int maxLen;
            try (LlamaModel m = load()) {
                maxLen = m.config().maxSeqLen();
            }
            List<TaskData> tasks = new ArrayList<>();
            for (SequenceSpec.Task t : spec.tasks) {
                tasks.add(TaskData.load(spec, t, dataRoot, tok, maxLen));
            }
            long t0 = System.nanoTime();
            initial(tok, tasks);
            timings.put("initial_s", (System.nanoTime() - t0) / 1e9);
            List<InstructionVector> ivs = new ArrayList<>();
            try {
                for (int j = 0; j < tasks.size(); j++) {
                    ivs.add(InstructionVector.load(out.resolve("initial").resolve("iv-" + j)));
                }
                for (Method m : methods) {
                    for (long s : seeds) {
                        long t1 = System.nanoTime();
                        runOne(m, s, tok, tasks, ivs);
                        timings.put(m.id + "/seed-" + s + "_s", (System.nanoTime() - t1) / 1e9);
                    }
                }
            } finally {
                ivs.forEach(InstructionVector::close);
            }
        }
        Map<String, Object> results = compose(methods, seeds);
        Path f = out.resolve("results.json");
        AtomicFiles.writeString(f, JSON.toJson(results) + "\n");
        AtomicFiles.writeString(out.resolve("timings.json"), JSON.toJson(timings) + "\n");
        log.print(table(results));
        log.flush();
        return f;
    }

    private LlamaModel load() {
        return ModelLoader.load(modelPath, null);
    }

    private String fingerprint() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((spec.toJson() + modelPath.getFileName()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private int ivLayer(LlamaModel m) {
        return spec.hyper.ivLayer >= 0 ? spec.hyper.ivLayer : m.config().nLayers() / 3;
    }

    // ------------------------------------------------------------------------------------------- initial model

    private void initial(Tokenizer tok, List<TaskData> tasks) {
        Path f = out.resolve("initial.json");
        if (Files.exists(f)) {
            Map<String, Object> j = readJson(f);
            if (!fingerprint().equals(j.get("spec_fingerprint"))) {
                throw new InvalidArgumentException("out", out + " holds a study with another spec or model; use a fresh --out");
            }
            return;
        }
        log.println("[initial] base-model scores, IVs, layer sweeps, knowledge probe, general sets");
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("spec_fingerprint", fingerprint());
        try (LlamaModel m = load()) {
            int layer = ivLayer(m);
            List<Double> b = new ArrayList<>();
            List<Object> ivInfo = new ArrayList<>(), knowledge = new ArrayList<>();
            for (int j = 0; j < tasks.size(); j++) {
                TaskData t = tasks.get(j);
                b.add(score(m, tok, t, null, -1));
                Map<String, Object> meta = new LinkedHashMap<>();
                meta.put("task", t.task.name);
                meta.put("layer", layer);
                meta.put("prompts", t.ivPrompts.size());
                try (InstructionVector iv = IvDynamics.extract(m, t.ivPrompts, spec.hyper.ivHeads, null, meta)) {
                    iv.save(out.resolve("initial").resolve("iv-" + j));
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("task", t.task.name);
                    e.put("layer", layer);
                    e.put("heads", heads(iv.heads()));
                    e.put("cie", IvDynamics.map(iv.cie()));
                    List<Object> sweep = new ArrayList<>();
                    if (spec.layerSweep) {
                        for (IvEvaluator.Result s : new IvEvaluator(m, tok).sweep(t.test, iv.vector(), 1f, 0, true)) {
                            sweep.add(Map.of("layer", s.layer(), "top1", s.top1(), "nll", s.nll()));
                        }
                    }
                    e.put("layer_sweep_top1", sweep);
                    ivInfo.add(e);
                }
                knowledge.add(probe(m, tok, t));
            }
            r.put("accuracy", b);
            r.put("iv", ivInfo);
            r.put("knowledge", knowledge);
            r.put("general", general(m, tok));
        }
        AtomicFiles.writeString(f, JSON.toJson(r) + "\n");
    }

    private static List<Object> heads(List<HeadRanking.Head> hs) {
        List<Object> out = new ArrayList<>();
        for (HeadRanking.Head h : hs) {
            out.add(List.of(h.layer(), h.head(), h.score()));
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------- scoring

    /** The task's score on its capped test set (see the class comment), optionally with {@code iv} added at {@code layer}. */
    static double score(LlamaModel m, Tokenizer tok, TaskData t, Tensor iv, int layer) {
        boolean firstToken = "first_token".equals(t.task.metric);
        IvEvaluator.Result r = new IvEvaluator(m, tok).evaluate(t.test, iv, layer, 1f, firstToken ? 0 : t.task.maxNewTokens, true);
        return switch (t.task.metric) {
            case "first_token" -> r.top1();
            case "em" -> r.exactMatch();
            default -> r.rougeL();
        };
    }

    private static Map<String, Object> probe(LlamaModel m, Tokenizer tok, TaskData t) {
        KnowledgeProbe.Result k = new KnowledgeProbe(m, tok).run(t.probeBare, t.probeInstructed);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("task", t.task.name);
        e.put("knowledge_p", k.bare());
        e.put("instruction_p", k.instructed());
        return e;
    }

    private Map<String, Object> general(LlamaModel m, Tokenizer tok) {
        SequenceSpec.General g = spec.general;
        Map<String, Object> r = new LinkedHashMap<>();
        MultipleChoiceEval ev = new MultipleChoiceEval(m, tok);
        if (g.hellaswag > 0) {
            r.put("hellaswag", mc(ev.run(MultipleChoiceEval.hellaSwag(dataRoot.resolve(g.hellaswagPath), g.hellaswag, g.maxContextChars))));
        }
        if (g.boolq > 0) {
            r.put("boolq", mc(ev.run(MultipleChoiceEval.boolQ(dataRoot.resolve(g.boolqPath), g.boolq, g.maxContextChars))));
        }
        if (g.copa > 0) {
            r.put("copa", mc(ev.run(MultipleChoiceEval.copa(dataRoot.resolve(g.copaPath), g.copa))));
        }
        return r;
    }

    private static Map<String, Object> mc(MultipleChoiceEval.Result r) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("items", r.items());
        e.put("acc", r.accuracy());
        e.put("acc_norm", r.accuracyNorm());
        return e;
    }

    // ------------------------------------------------------------------------------------------- one run

    /** What a run has finished so far (state.json). */
    static final class RunState {
        String specFingerprint;
        int completed;
        List<double[]> rows = new ArrayList<>();
        List<Object> general = new ArrayList<>();
        List<Object> dynamics = new ArrayList<>();
        List<Double> trainLoss = new ArrayList<>();
    }

    private void runOne(Method method, long seed, Tokenizer tok, List<TaskData> tasks, List<InstructionVector> ivs) {
        Path dir = out.resolve("runs").resolve(method.id).resolve("seed-" + seed);
        Path stateFile = dir.resolve("state.json");
        mkdirs(dir);
        RunState st;
        if (Files.exists(stateFile)) {
            st = JSON.fromJson(readString(stateFile), RunState.class);
            if (!fingerprint().equals(st.specFingerprint)) {
                throw new InvalidArgumentException("out", stateFile + " was written for another spec or model; use a fresh --out");
            }
        } else {
            st = new RunState();
            st.specFingerprint = fingerprint();
        }
        if (st.completed == tasks.size()) {
            log.printf("[%s seed %d] already complete%n", method.id, seed);
            return;
        }
        SequenceSpec.Hyper h = spec.hyper;
        LoraConfig loraCfg = new LoraConfig(h.loraRank, h.loraAlpha, h.loraDropout, h.loraTargets);
        try (LlamaModel model = load()) {
            int layer = ivLayer(model);
            Map<String, Tensor> fisher = null;
            List<Map<String, Tensor>> previousA = new ArrayList<>();
            ReplayBuffer<TokenizedPrompt> buffer = new ReplayBuffer<>(seed, h.replayPerTask);
            for (int k = 0; k < st.completed; k++) {   // resume: the finished tasks' adapters, merged in order
                try (LoraAdapter a = LoraAdapter.load(dir.resolve("task-" + k).resolve("adapter"), model.config())) {
                    model.attachAdapter(a);
                    model.mergeAdapter();
                    remember(method, k, a, previousA, buffer, tasks);
                }
            }
            if (method == Method.EWC && st.completed > 0) {
                fisher = Safetensors.readAll(dir.resolve("fisher-" + (st.completed - 1) + ".safetensors"));
            }
            for (int k = st.completed; k < tasks.size(); k++) {
                TaskData task = tasks.get(k);
                long s = seed * 1009L + k;
                Path tdir = dir.resolve("task-" + k);
                deleteTree(tdir);
                TrainConfig cfg = new TrainConfig(h.lr, LrSchedule.Kind.CONSTANT, 0, h.epochs, h.batchSize, h.gradAccum, h.clipNorm,
                        0.0, s, 1, 0, Integer.MAX_VALUE);
                List<TokenizedPrompt> data = method == Method.REPLAY ? buffer.mix(k, task.train, h.replayRatio) : task.train;
                Regulariser reg = switch (method) {
                    case NAIVE, REPLAY -> null;
                    case IV_GUIDED -> new IvGuidedRegulariser(new IvGuidedRegulariser.Config(ivs.get(k).vector(), layer,
                            IvGuidedRegulariser.Site.ATTN_OUT, h.alpha1, h.alpha2, h.alphaPr, h.temperature, KlDirection.REVERSE, false,
                            ivs.get(k).heads(), null));
                    case LWF -> lwf(model, h);
                    case EWC -> fisher == null ? null : new EwcRegulariser(fisher, h.ewcLambda);
                    case OLORA -> previousA.isEmpty() ? null : new OLoraRegulariser(previousA, h.oloraLambda);
                };
                log.printf("[%s seed %d] task %d/%d %s: training on %d examples%n", method.id, seed, k + 1, tasks.size(),
                        task.task.name, data.size());
                try (LoraAdapter a = LoraAdapter.create(model.config(), loraCfg, s)) {
                    Trainer.Result r = new Trainer(model, cfg, reg, tdir).train(a, data, null, false);
                    st.trainLoss.add(r.losses().get(r.losses().size() - 1));
                    model.mergeAdapter();
                    remember(method, k, a, previousA, buffer, tasks);
                }
                deleteTree(tdir.resolve("checkpoints"));
                if (method == Method.EWC) {
                    List<TokenizedPrompt> fd = task.train.subList(0, Math.min(h.ewcExamples, task.train.size()));
                    fisher = EwcRegulariser.accumulate(fisher, EwcRegulariser.estimateFisher(model, fd, h.loraTargets));
                    Safetensors.write(dir.resolve("fisher-" + k + ".safetensors"), new LinkedHashMap<>(fisher), Map.of());
                }
                evaluateStage(model, tok, tasks, ivs, layer, k, st);
                st.completed = k + 1;
                AtomicFiles.writeString(stateFile, JSON.toJson(st) + "\n");
                if (hook != null) {
                    hook.afterTask(method, seed, k);
                }
            }
        }
    }

    /** LwF / KL-only: the IV-guided KL terms with no IV (strength 0) and no head preservation. */
    private static Regulariser lwf(LlamaModel model, SequenceSpec.Hyper h) {
        return new IvGuidedRegulariser(new IvGuidedRegulariser.Config(torch.zeros(model.config().dModel()), 0,
                IvGuidedRegulariser.Site.ATTN_OUT, h.alpha1, h.alpha2, 0, h.temperature, KlDirection.REVERSE, false, List.of(),
                new IvSchedule(IvSchedule.Kind.CONSTANT, 0, 0)));
    }

    /** What a method keeps from a finished task (called right after its adapter is merged). */
    private void remember(Method method, int k, LoraAdapter a, List<Map<String, Tensor>> previousA, ReplayBuffer<TokenizedPrompt> buffer,
            List<TaskData> tasks) {
        if (method == Method.OLORA) {
            Map<String, Tensor> as = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor[]> e : a.all().entrySet()) {
                Tensor c = e.getValue()[0].detach().clone();
                c.retainReference();
                as.put(e.getKey(), c);
            }
            previousA.add(as);
        }
        if (method == Method.REPLAY) {
            buffer.add(k, tasks.get(k).train);
        }
    }

    private void evaluateStage(LlamaModel model, Tokenizer tok, List<TaskData> tasks, List<InstructionVector> ivs, int layer, int k,
            RunState st) {
        double[] row = new double[tasks.size()];
        for (int j = 0; j < tasks.size(); j++) {
            row[j] = score(model, tok, tasks.get(j), null, -1);
        }
        st.rows.add(row);
        st.general.add(spec.general.everyTask || k == tasks.size() - 1 ? general(model, tok) : null);
        List<Object> dyn = new ArrayList<>();
        for (int j = 0; j <= k; j++) {
            TaskData t = tasks.get(j);
            InstructionVector pre = ivs.get(j);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", t.task.name);
            e.put("task_index", j);
            e.put("accuracy", row[j]);
            try (PointerScope s = new PointerScope();
                 InstructionVector now = IvDynamics.extract(model, t.ivPrompts, spec.hyper.ivHeads, pre.heads(), Map.of("task", t.task.name))) {
                double[][] before = IvDynamics.map(pre.cie()), after = IvDynamics.map(now.cie());
                e.put("iv_cosine", IvDynamics.cosine(now.vector(), pre.vector()));
                e.put("head_jaccard", IvDynamics.jaccard(pre.heads(), HeadRanking.top(after, pre.heads().size())));
                e.put("cie_spearman", IvDynamics.spearman(before, after));
                e.put("cie_rel_change", num(IvDynamics.relativeChange(before, after)));
            }
            if (j < k) {
                double with = score(model, tok, t, pre.vector(), layer);
                double lost = st.rows.get(j)[j] - row[j];
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("accuracy_with_pre_iv", with);
                rec.put("lost", lost);
                rec.put("share_regained", lost > 1e-9 ? (with - row[j]) / lost : null);
                e.put("recovery", rec);
            }
            Map<String, Object> kp = probe(model, tok, t);
            kp.remove("task");
            e.put("knowledge", kp);
            dyn.add(e);
        }
        st.dynamics.add(dyn);
    }

    static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }

    // ------------------------------------------------------------------------------------------- results

    private Map<String, Object> compose(List<Method> methods, List<Long> seeds) {
        Map<String, Object> initial = readJson(out.resolve("initial.json"));
        @SuppressWarnings("unchecked")
        List<Double> bl = (List<Double>) initial.get("accuracy");
        double[] b = bl.stream().mapToDouble(Double::doubleValue).toArray();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("sequence", spec.name);
        r.put("tasks", spec.tasks.stream().map(t -> t.name).toList());
        r.put("task_metrics", spec.tasks.stream().map(t -> t.metric).toList());
        r.put("definitions", Map.of(
                "accuracy_matrix", "R[i][j] = score on task j after training task i (0-based)",
                "AP", "1/T * sum_j R[T-1][j]",
                "BWT", "1/(T-1) * sum_{j<T-1} (R[T-1][j] - R[j][j])",
                "FWT", "1/(T-1) * sum_{j>=1} (R[j-1][j] - b[j]), b = initial.accuracy",
                "citation", "Lopez-Paz & Ranzato, Gradient Episodic Memory for Continual Learning, NeurIPS 2017"));
        r.put("spec", JSON.fromJson(spec.toJson(), Map.class));
        r.put("initial", initial);
        Map<String, Object> ms = new LinkedHashMap<>();
        for (Method m : methods) {
            Map<String, Object> perSeed = new LinkedHashMap<>();
            List<ForgettingMetrics.Summary> sums = new ArrayList<>();
            for (long s : seeds) {
                RunState st = JSON.fromJson(readString(out.resolve("runs").resolve(m.id).resolve("seed-" + s).resolve("state.json")), RunState.class);
                double[][] mat = st.rows.toArray(new double[0][]);
                ForgettingMetrics.Summary f = ForgettingMetrics.of(mat, b);
                sums.add(f);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("accuracy_matrix", mat);
                e.put("AP", num(f.ap()));
                e.put("BWT", num(f.bwt()));
                e.put("FWT", num(f.fwt()));
                e.put("train_loss_last", st.trainLoss);
                e.put("general", st.general);
                e.put("iv_dynamics", st.dynamics);
                perSeed.put(Long.toString(s), e);
            }
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("seeds", perSeed);
            mm.put("summary", Map.of("AP", spread(sums, ForgettingMetrics.Summary::ap), "BWT", spread(sums, ForgettingMetrics.Summary::bwt),
                    "FWT", spread(sums, ForgettingMetrics.Summary::fwt)));
            ms.put(m.id, mm);
        }
        r.put("methods", ms);
        return r;
    }

    private static Map<String, Object> spread(List<ForgettingMetrics.Summary> s, java.util.function.ToDoubleFunction<ForgettingMetrics.Summary> f) {
        double[] v = s.stream().mapToDouble(f).toArray();
        double mean = java.util.Arrays.stream(v).average().orElse(Double.NaN);
        double var = 0;
        for (double x : v) {
            var += (x - mean) * (x - mean);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", num(mean));
        m.put("std", v.length > 1 ? num(Math.sqrt(var / (v.length - 1))) : null);
        m.put("n", v.length);
        return m;
    }

    /** method | AP | BWT | FWT (mean ± std over seeds). */
    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> results) {
        StringBuilder sb = new StringBuilder(String.format("%-10s %16s %16s %16s%n", "method", "AP", "BWT", "FWT"));
        for (Map.Entry<String, Object> e : ((Map<String, Object>) results.get("methods")).entrySet()) {
            Map<String, Object> s = (Map<String, Object>) ((Map<String, Object>) e.getValue()).get("summary");
            sb.append(String.format("%-10s %16s %16s %16s%n", e.getKey(), cell(s.get("AP")), cell(s.get("BWT")), cell(s.get("FWT"))));
        }
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static String cell(Object o) {
        Map<String, Object> m = (Map<String, Object>) o;
        Object mean = m.get("mean"), std = m.get("std");
        if (mean == null) {
            return "n/a";
        }
        return std == null ? String.format("%.4f", (Double) mean) : String.format("%.4f ± %.4f", (Double) mean, (Double) std);
    }

    // ------------------------------------------------------------------------------------------- files

    private static Map<String, Object> readJson(Path f) {
        return JSON.fromJson(readString(f), new TypeToken<Map<String, Object>>() {}.getType());
    }

    private static String readString(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IvkitException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    private static void mkdirs(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new InvalidArgumentException("out", "cannot create " + p + ": " + e.getMessage());
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new IvkitException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
