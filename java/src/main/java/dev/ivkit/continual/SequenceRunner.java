package dev.ivkit.continual;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.results.RecoveryScore;
import dev.ivkit.results.ResultsFile;
import dev.ivkit.results.Spread;
import dev.ivkit.results.StudyFiles;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * of the current model; the points it regains, and their share of the accuracy lost since task j was learned where
 * that loss is at least {@link RecoveryScore#LOST_FLOOR}) and the knowledge probe
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
 * the same {@code results.json} as an uninterrupted one. The file is written by {@link ResultsFile}; the spread of AP,
 * BWT and FWT over seeds is a {@link Spread}. One method × seed is a {@link SeedRun}.
 */
public final class SequenceRunner {
    /** Called after each task's state is saved (tests use it to simulate a kill between tasks). */
    public interface TaskHook {
        void afterTask(Method method, long seed, int taskIndex);
    }


    static final Gson JSON = ResultsFile.JSON;

    private final SequenceSpec spec;
    private final Path dataRoot;
    private final Path modelPath;
    private final Path tokenizerPath;
    private final Path out;
    private final StudyScores scores;
    private TaskHook hook;
    private PrintStream log = new PrintStream(java.io.OutputStream.nullOutputStream());   // library code prints nothing
    private final Map<String, Object> timings = new LinkedHashMap<>();
    private dev.ivkit.model.Device device = dev.ivkit.model.Device.CPU;

    public SequenceRunner(SequenceSpec spec, Path dataRoot, Path modelPath, Path tokenizerPath, Path out) {
        this.spec = spec;
        this.dataRoot = dataRoot;
        this.modelPath = modelPath;
        this.tokenizerPath = tokenizerPath;
        this.out = out;
        this.scores = new StudyScores(spec, dataRoot);
    }

    public SequenceRunner afterTask(TaskHook h) {
        this.hook = h;
        return this;
    }

    /**
     * The device the model is loaded on for every run (default: the CPU).
     *
     * @param d the device, checked to be usable
     * @return this runner
     */
    public SequenceRunner device(dev.ivkit.model.Device d) {
        this.device = d.requireAvailable();
        return this;
    }

    /**
     * Where progress lines go (default: nowhere; the CLI passes stderr).
     *
     * @param p the stream
     * @return this runner
     */
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
            SeedRun runs = new SeedRun(spec, scores, out, fingerprint(), this::load, log, hook);
            try {
                for (int j = 0; j < tasks.size(); j++) {
                    ivs.add(InstructionVector.load(out.resolve("initial").resolve("iv-" + j)));
                }
                for (Method m : methods) {
                    for (long s : seeds) {
                        long t1 = System.nanoTime();
                        runs.run(m, s, tok, tasks, ivs);
                        timings.put(m.id + "/seed-" + s + "_s", (System.nanoTime() - t1) / 1e9);
                    }
                }
            } finally {
                ivs.forEach(InstructionVector::close);
            }
        }
        ResultsFile.Results results = compose(methods, seeds);
        Path f = out.resolve("results.json");
        ResultsFile.write(f, results);
        AtomicFiles.writeString(out.resolve("timings.json"), JSON.toJson(timings) + "\n");
        log.print(table(results));
        log.flush();
        return f;
    }

    private LlamaModel load() {
        return ModelLoader.load(modelPath, null, device, null);
    }

    private String fingerprint() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((spec.toJson() + modelPath.getFileName()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
            int layer = scores.ivLayer(m);
            List<Double> b = new ArrayList<>();
            List<Object> ivInfo = new ArrayList<>(), knowledge = new ArrayList<>();
            for (int j = 0; j < tasks.size(); j++) {
                TaskData t = tasks.get(j);
                b.add(StudyScores.score(m, tok, t, null, -1));
                Map<String, Object> meta = new LinkedHashMap<>();
                meta.put("task", t.task.name);
                meta.put("layer", layer);
                meta.put("prompts", t.ivPrompts.size());
                try (InstructionVector iv = IvDynamics.extract(m, t.ivPrompts, spec.hyper.ivHeads, null, meta)) {
                    iv.save(out.resolve("initial").resolve("iv-" + j));
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("task", t.task.name);
                    e.put("layer", layer);
                    e.put("heads", StudyScores.heads(iv.heads()));
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
                knowledge.add(StudyScores.probe(m, tok, t));
            }
            r.put("accuracy", b);
            r.put("iv", ivInfo);
            r.put("knowledge", knowledge);
            r.put("general", scores.general(m, tok));
        }
        AtomicFiles.writeString(f, JSON.toJson(r) + "\n");
    }

    // ------------------------------------------------------------------------------------------- results

    private ResultsFile.Results compose(List<Method> methods, List<Long> seeds) {
        Map<String, Object> initial = readJson(out.resolve("initial.json"));
        @SuppressWarnings("unchecked")
        List<Double> bl = (List<Double>) initial.get("accuracy");
        double[] b = bl.stream().mapToDouble(Double::doubleValue).toArray();
        Map<String, String> definitions = new LinkedHashMap<>();
        definitions.put("accuracy_matrix", "R[i][j] = score on task j after training task i (0-based)");
        definitions.put("AP", "1/T * sum_j R[T-1][j]");
        definitions.put("BWT", "1/(T-1) * sum_{j<T-1} (R[T-1][j] - R[j][j])");
        definitions.put("FWT", "1/(T-1) * sum_{j>=1} (R[j-1][j] - b[j]), b = initial.accuracy");
        definitions.put("recovery", RecoveryScore.DEFINITION);
        definitions.put("citation", "Lopez-Paz & Ranzato, Gradient Episodic Memory for Continual Learning, NeurIPS 2017");
        Map<String, ResultsFile.MethodResults> ms = new LinkedHashMap<>();
        for (Method m : methods) {
            Map<String, ResultsFile.SeedResults> perSeed = new LinkedHashMap<>();
            for (long s : seeds) {
                Path state = out.resolve("runs").resolve(m.id).resolve("seed-" + s).resolve("state.json");
                RunState st = JSON.fromJson(StudyFiles.readString(state), RunState.class);
                perSeed.put(Long.toString(s), ResultsFile.SeedResults.of(st.rows.toArray(new double[0][]), b, st.trainLoss, st.general,
                        st.dynamics, null));
            }
            ms.put(m.id, ResultsFile.MethodResults.of(perSeed));
        }
        return ResultsFile.Results.of(spec.name, spec.tasks.stream().map(t -> t.name).toList(),
                spec.tasks.stream().map(t -> t.metric).toList(), definitions, JSON.fromJson(spec.toJson(), Map.class), initial, ms);
    }

    /** method | AP | BWT | FWT (mean ± std over seeds). */
    static String table(ResultsFile.Results results) {
        StringBuilder sb = new StringBuilder(String.format("%-10s %16s %16s %16s%n", "method", "AP", "BWT", "FWT"));
        for (Map.Entry<String, ResultsFile.MethodResults> e : results.methods().entrySet()) {
            Map<String, Spread> s = e.getValue().summary();
            sb.append(String.format("%-10s %16s %16s %16s%n", e.getKey(), s.get("AP").format("%.4f", " ± "),
                    s.get("BWT").format("%.4f", " ± "), s.get("FWT").format("%.4f", " ± ")));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------- files

    private static Map<String, Object> readJson(Path f) {
        return JSON.fromJson(StudyFiles.readString(f), new TypeToken<Map<String, Object>>() {}.getType());
    }

    static void mkdirs(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new InvalidArgumentException("out", "cannot create " + p + ": " + e.getMessage());
        }
    }
}
