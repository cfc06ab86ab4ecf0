package dev.ivkit.continual;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.results.RecoveryScore;
import dev.ivkit.results.Spread;
import dev.ivkit.results.StudyFiles;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.util.AtomicFiles;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One method × seed of a continual study (see {@link SequenceRunner}): trains the tasks in order, evaluates after
 * each, and saves {@code OUT/runs/METHOD/seed-S/state.json} after each so that a re-run continues where it stopped.
 */
final class SeedRun {
    private static final com.google.gson.Gson JSON = SequenceRunner.JSON;
    private final SequenceSpec spec;
    private final StudyScores scores;
    private final Path out;
    private final String fingerprint;
    private final Supplier<LlamaModel> loader;
    private final PrintStream log;
    private final SequenceRunner.TaskHook hook;

    /** {@code fingerprint}: the study's (spec and model) fingerprint; {@code hook} may be null. */
    SeedRun(SequenceSpec spec, StudyScores scores, Path out, String fingerprint, Supplier<LlamaModel> loader, PrintStream log,
            SequenceRunner.TaskHook hook) {
        this.spec = spec;
        this.scores = scores;
        this.out = out;
        this.fingerprint = fingerprint;
        this.loader = loader;
        this.log = log;
        this.hook = hook;
    }

    /** Runs (or continues) {@code method} with {@code seed} over {@code tasks}; {@code ivs}: their base-model IVs. */
    void run(Method method, long seed, Tokenizer tok, List<TaskData> tasks, List<InstructionVector> ivs) {
        Path dir = out.resolve("runs").resolve(method.id).resolve("seed-" + seed);
        Path stateFile = dir.resolve("state.json");
        SequenceRunner.mkdirs(dir);
        RunState st;
        if (Files.exists(stateFile)) {
            st = JSON.fromJson(StudyFiles.readString(stateFile), RunState.class);
            if (!fingerprint.equals(st.specFingerprint)) {
                throw new InvalidArgumentException("out", stateFile + " was written for another spec or model; use a fresh --out");
            }
        } else {
            st = new RunState();
            st.specFingerprint = fingerprint;
        }
        if (st.completed == tasks.size()) {
            log.printf("[%s seed %d] already complete%n", method.id, seed);
            return;
        }
        SequenceSpec.Hyper h = spec.hyper;
        LoraConfig loraCfg = new LoraConfig(h.loraRank, h.loraAlpha, h.loraDropout, h.loraTargets);
        try (LlamaModel model = loader.get();
                MethodMemory memory = new MethodMemory(method, seed, h.replayPerTask, h.replayRatio, h.ewcExamples, h.loraTargets)) {
            int layer = scores.ivLayer(model);
            for (int k = 0; k < st.completed; k++) {   // resume: the finished tasks' adapters, merged in order
                try (LoraAdapter a = LoraAdapter.load(dir.resolve("task-" + k).resolve("adapter"), model.config())) {
                    model.attachAdapter(a);
                    model.mergeAdapter();
                    memory.afterMerge(k, a, tasks.get(k).train);
                }
            }
            if (method == Method.EWC && st.completed > 0) {
                memory.restoreFisher(Safetensors.readAll(dir.resolve("fisher-" + (st.completed - 1) + ".safetensors")));
            }
            RegulariserFactory regs = h.regularisers();
            for (int k = st.completed; k < tasks.size(); k++) {
                TaskData task = tasks.get(k);
                int taskIndex = k;
                Path tdir = dir.resolve("task-" + k);
                StudyFiles.deleteTree(tdir);
                TrainConfig cfg = TaskProtocol.trainConfig(h.lr, h.epochs, h.batchSize, h.gradAccum, h.clipNorm,
                        TaskProtocol.taskSeed(seed, k), 1);
                List<TokenizedPrompt> data = memory.trainingData(k, task.train);
                Regulariser reg = memory.regulariser(regs, model, ivs.get(k), layer);
                log.printf("[%s seed %d] task %d/%d %s: training on %d examples%n", method.id, seed, k + 1, tasks.size(),
                        task.task.name, data.size());
                st.trainLoss.add(TaskProtocol.trainAndMerge(model, loraCfg, cfg, reg, data, tdir, false,
                        a -> memory.afterMerge(taskIndex, a, task.train)));
                StudyFiles.deleteTree(tdir.resolve("checkpoints"));
                memory.afterTask(model, task.train);
                if (memory.fisher() != null) {
                    Safetensors.write(dir.resolve("fisher-" + k + ".safetensors"), new LinkedHashMap<>(memory.fisher()), Map.of());
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

    private void evaluateStage(LlamaModel model, Tokenizer tok, List<TaskData> tasks, List<InstructionVector> ivs, int layer, int k,
            RunState st) {
        double[] row = new double[tasks.size()];
        for (int j = 0; j < tasks.size(); j++) {
            row[j] = StudyScores.score(model, tok, tasks.get(j), null, -1);
        }
        st.rows.add(row);
        st.general.add(spec.general.everyTask || k == tasks.size() - 1 ? scores.general(model, tok) : null);
        List<Object> dyn = new ArrayList<>();
        for (int j = 0; j <= k; j++) {
            TaskData t = tasks.get(j);
            InstructionVector pre = ivs.get(j);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", t.task.name);
            e.put("task_index", j);
            e.put("accuracy", row[j]);
            IvDynamics.Comparison c = IvDynamics.compare(model, t.ivPrompts, pre, Map.of("task", t.task.name));
            e.put("iv_cosine", c.cosine());
            e.put("head_jaccard", c.headJaccard());
            e.put("cie_spearman", c.cieSpearman());
            e.put("cie_rel_change", Spread.num(c.cieRelChange()));
            if (j < k) {
                double with = StudyScores.score(model, tok, t, pre.vector(), layer);
                e.put("recovery", RecoveryScore.json(RecoveryScore.of(st.rows.get(j)[j], row[j], with)));
            }
            Map<String, Object> kp = StudyScores.probe(model, tok, t);
            kp.remove("task");
            e.put("knowledge", kp);
            dyn.add(e);
        }
        st.dynamics.add(dyn);
    }
}
