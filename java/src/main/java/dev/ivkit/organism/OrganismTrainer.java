package dev.ivkit.organism;

import dev.ivkit.IvkitException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.train.AdamW;
import dev.ivkit.train.LrSchedule;
import dev.ivkit.train.TrainingDivergedException;
import dev.ivkit.util.Progress;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Pretrains the organism from scratch: full-parameter AdamW on packed sequences of the pretraining tasks.
 *
 * <p>Each sequence is one task: BOS, the task token in half of the sequences (instruction format), then pairs
 * {@code x>y\n} packed until the next would pass {@code trainLen} tokens. The loss is the mean cross-entropy over the
 * answer tokens and the closing newline of every pair, so a sequence trains zero-shot (or instruction) and 1…n−1-shot
 * prediction at once; lookup sequences are the knowledge facts. Sequences are right-padded (the mask is causal, so
 * padding never reaches a real token).
 *
 * <p>Determinism: the weights are initialised from a Java {@link Random} seeded by the config, and the batch of step
 * {@code s} is a pure function of (seed, s), so a run resumed from a checkpoint (written atomically every
 * {@code checkpointEvery} steps under {@code OUT/train-state/}) reproduces an uninterrupted one bit for bit on the CPU.
 */
public final class OrganismTrainer {
    static final String STATE_DIR = "train-state";
    static final String STATE_FILE = "state.safetensors";

    /** What a run did. */
    public record Result(int steps, int resumedFrom, double finalLoss, double seconds, List<Double> losses) {}

    private final OrganismConfig cfg;
    private final SyntheticTasks tasks;
    private final CharTokenizer tok;
    private final ModelConfig mc;
    /** Tasks a pretraining sequence is drawn from: the pretrained ones, plus the held-out ones when in context. */
    private final List<SyntheticTasks.Task> drawn;

    public OrganismTrainer(OrganismConfig cfg) {
        this.cfg = cfg;
        this.tasks = new SyntheticTasks(cfg.taskSeed());
        this.tok = tasks.tokenizer();
        this.mc = cfg.modelConfig(tok.vocabSize(), tok.bosId());
        List<SyntheticTasks.Task> d = new ArrayList<>(tasks.pretrainTasks());
        if (cfg.heldOutInContext()) {
            d.addAll(tasks.heldOutTasks());
        }
        this.drawn = List.copyOf(d);
    }

    public ModelConfig modelConfig() {
        return mc;
    }

    public SyntheticTasks tasks() {
        return tasks;
    }

    public CharTokenizer tokenizer() {
        return tok;
    }

    /** Freshly initialised weights under the canonical names (norms 1, everything else N(0, initStd²)). */
    public Map<String, Tensor> initialWeights() {
        Random r = new Random(SyntheticTasks.mix(cfg.seed(), 0x1417L));
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : HfCheckpoint.expectedShapes(mc).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            float[] v = new float[(int) n];
            boolean norm = e.getKey().endsWith("norm.weight");
            for (int i = 0; i < v.length; i++) {
                v[i] = norm ? 1f : (float) (r.nextGaussian() * cfg.initStd());
            }
            Tensor t;
            try (PointerScope s = new PointerScope()) {
                t = torch.tensor(v).reshape(e.getValue()).clone();
                t.retainReference();
            }
            w.put(e.getKey(), t);
        }
        return w;
    }

    /** A packed batch: ids [batch, len] and the loss mask over target positions [batch, len - 1]. */
    public record Batch(long[] ids, float[] mask, int rows, int len) {}

    /** The batch of optimizer step {@code step}: a pure function of the seed and the step. */
    public Batch batch(int step) {
        Random r = new Random(SyntheticTasks.mix(cfg.seed(), 0xBA7C4L + step));
        List<int[]> seqs = new ArrayList<>();
        List<boolean[]> targets = new ArrayList<>();
        int len = 0;
        int sep = tok.id(SyntheticTasks.SEP), end = tok.id(SyntheticTasks.END);
        for (int b = 0; b < cfg.batch(); b++) {
            SyntheticTasks.Task task = drawn.get(r.nextInt(drawn.size()));
            int[] ids = new int[cfg.trainLen()];
            boolean[] isTarget = new boolean[cfg.trainLen()];
            int n = 0;
            ids[n++] = tok.bosId();
            if (r.nextBoolean() && task.pretrain()) {   // a held-out task never shows its task token
                ids[n++] = tok.id(task.instruction());
            }
            while (true) {
                String x = tasks.pretrainInput(task, r);
                String y = tasks.apply(task, x);
                if (n + x.length() + y.length() + 2 > cfg.trainLen()) {
                    break;
                }
                for (char c : x.toCharArray()) {
                    ids[n++] = tok.id(String.valueOf(c));
                }
                ids[n++] = sep;
                for (char c : y.toCharArray()) {
                    isTarget[n] = true;
                    ids[n++] = tok.id(String.valueOf(c));
                }
                isTarget[n] = true;
                ids[n++] = end;
            }
            seqs.add(java.util.Arrays.copyOf(ids, n));
            targets.add(isTarget);
            len = Math.max(len, n);
        }
        long[] ids = new long[cfg.batch() * len];
        float[] mask = new float[cfg.batch() * (len - 1)];
        for (int b = 0; b < cfg.batch(); b++) {
            int[] s = seqs.get(b);
            for (int j = 0; j < len; j++) {
                ids[b * len + j] = j < s.length ? s[j] : tok.padId();
                if (j > 0 && j < s.length && targets.get(b)[j]) {
                    mask[b * (len - 1) + j - 1] = 1f;
                }
            }
        }
        return new Batch(ids, mask, cfg.batch(), len);
    }

    /**
     * Trains into {@code out}: resumes from {@code out/train-state/} when it holds a state of this recipe, else starts
     * fresh. Writes the final model (HF layout + tokenizer) into {@code out} and removes the training state.
     *
     * @param minutes   when &gt; 0, train for about this long (counted from this call): from the 10th step on, the
     *                  step count (the LR schedule's length) is re-estimated at every step from the measured speed so
     *                  that the run ends by the deadline; the steps of {@code cfg} are then ignored, the count reached
     *                  is returned, and the run is not reproducible from the seed alone (rerun with that count as
     *                  {@code steps} for a deterministic one — the schedule differs slightly)
     * @param stopAfter when ≥ 0, stop (after checkpointing) once this many steps are done without writing the model —
     *                  simulates an interruption
     */
    public Result train(Path out, double minutes, int stopAfter) {
        Torch.init();
        long t0 = System.nanoTime();
        Path stateFile = out.resolve(STATE_DIR).resolve(STATE_FILE);
        Map<String, Tensor> weights = initialWeights();
        for (Tensor t : weights.values()) {
            t.requires_grad_(true);
        }
        List<String> names = new ArrayList<>(weights.keySet());
        List<Tensor> params = new ArrayList<>(weights.values());
        int total = minutes > 0 ? -1 : cfg.steps();   // -1: not yet estimated
        int start = 0;
        double priorSeconds = 0, priorLoss = Double.NaN;   // from a resumed state: time spent and last loss before it
        List<Double> losses = new ArrayList<>();
        try (LlamaModel model = new LlamaModel(mc, weights, torch.ScalarType.Float);
                AdamW opt = new AdamW(params, 0.9, 0.95, 1e-8, cfg.weightDecay());
                ShardedGradient grads = new ShardedGradient(model, params, cfg.shards())) {
            if (Files.isRegularFile(stateFile)) {
                Restored restored = restore(stateFile, names, params, opt);
                if (restored != null) {
                    start = restored.step();
                    total = restored.total();
                    priorSeconds = restored.seconds();
                    priorLoss = restored.loss();
                }
            }
            int resumedFrom = start;
            Progress progress = new Progress("organism pretraining", total > 0 ? total : Math.max(1, cfg.steps()));
            double lossEma = Double.NaN;
            int timedFrom = -1;
            long timedStart = 0;
            for (int step = start; total < 0 || step < total; step++) {
                if (minutes > 0 && step == start + 3) {
                    timedFrom = step;
                    timedStart = System.nanoTime();
                }
                if (minutes > 0 && step >= start + 10) {
                    // re-estimate the step count from the speed so far, so that training ends by the deadline
                    double perStep = (System.nanoTime() - timedStart) / 1e9 / (step - timedFrom);
                    double left = minutes * 60 - (System.nanoTime() - t0) / 1e9;
                    int estimate = Math.max(step + 1, step + (int) Math.floor(left / perStep));
                    if (total < 0 || Math.abs(estimate - total) > 0.05 * total) {
                        progress = new Progress("organism pretraining", estimate);
                    }
                    total = estimate;
                }
                LrSchedule sched = new LrSchedule(LrSchedule.Kind.COSINE, cfg.lr(), cfg.warmupSteps(),
                        total > 0 ? total : Math.max(cfg.warmupSteps() + 1, 10), cfg.minLrFraction());
                double lv = grads.compute(batch(step));
                if (!Double.isFinite(lv)) {
                    throw new TrainingDivergedException("organism loss is " + lv + " at step " + step);
                }
                double norm = AdamW.clipGradNorm(params, cfg.clipNorm());
                if (!Double.isFinite(norm)) {
                    throw new TrainingDivergedException("organism gradient is not finite at step " + step);
                }
                try (PointerScope scope = new PointerScope()) {
                    opt.step(sched.at(step));   // the next compute() overwrites the gradients: no zeroing
                }
                losses.add(lv);
                lossEma = Double.isNaN(lossEma) ? lv : 0.95 * lossEma + 0.05 * lv;
                int done = step + 1;
                progress.update(done, String.format("loss %.4f", lossEma));
                double soFar = priorSeconds + (System.nanoTime() - t0) / 1e9;
                if (done % cfg.checkpointEvery() == 0 || done == stopAfter) {
                    save(stateFile, names, params, opt, done, total, soFar, lv);
                }
                if (done == stopAfter) {   // the time the state holds, so that a resumed run never reports less
                    return new Result(done, resumedFrom, lv, soFar, losses);
                }
            }
            writeModel(out, weights);
            deleteState(out);
            double fin = losses.isEmpty() ? priorLoss : losses.get(losses.size() - 1);
            return new Result(total, resumedFrom, fin, priorSeconds + (System.nanoTime() - t0) / 1e9, losses);
        }
    }

    /** Writes config.json, model.safetensors and the tokenizer into {@code out}. */
    void writeModel(Path out, Map<String, Tensor> weights) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> detached = new LinkedHashMap<>();
            weights.forEach((k, v) -> detached.put(k, v.detach()));
            Files.createDirectories(out);
            HfCheckpoint.write(out, new dev.ivkit.model.Checkpoint(mc, detached, out), torch.ScalarType.Float);
            tok.save(out);
        } catch (IOException e) {
            throw new IvkitException("cannot create " + out + ": " + e.getMessage(), e);
        }
    }

    private void save(Path file, List<String> names, List<Tensor> params, AdamW opt, int step, int total, double seconds, double loss) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            LinkedHashMap<String, Tensor> all = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                all.put("param." + names.get(i), params.get(i).detach());
            }
            opt.state().forEach((k, v) -> all.put("opt." + k, v));
            Files.createDirectories(file.getParent());
            Safetensors.write(file, all, Map.of("step", Integer.toString(step), "total", Integer.toString(total),
                    "adam_step", Long.toString(opt.stepCount()), "recipe", cfg.fingerprint(),
                    "seconds", Double.toString(seconds), "loss", Double.toString(loss)));
        } catch (IOException e) {
            throw new IvkitException("cannot write the training state " + file + ": " + e.getMessage(), e);
        }
    }

    /** What a saved state holds besides tensors: steps done, schedule length, wall seconds so far, last loss. */
    private record Restored(int step, int total, double seconds, double loss) {}

    /** Loads a saved state into the parameters and optimizer; null when it is another recipe's. */
    private Restored restore(Path file, List<String> names, List<Tensor> params, AdamW opt) {
        Map<String, String> meta;
        try (var f = Safetensors.open(file)) {
            meta = f.metadata();
        }
        if (!cfg.fingerprint().equals(meta.get("recipe"))) {
            org.slf4j.LoggerFactory.getLogger(OrganismTrainer.class)
                    .warn("organism: ignoring the training state in {} (another recipe)", file.getParent());
            return null;
        }
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> all = Safetensors.readAll(file);
            Map<String, Tensor> optState = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                Tensor t = all.get("param." + names.get(i));
                if (t == null) {
                    throw new IvkitException("training state " + file + " lacks " + names.get(i));
                }
                params.get(i).copy_(t);
            }
            all.forEach((k, v) -> {
                if (k.startsWith("opt.")) {
                    optState.put(k.substring(4), v);
                }
            });
            opt.load(optState, Long.parseLong(meta.get("adam_step")));
        }
        // states written before "seconds"/"loss" were recorded resume with 0 s and no loss
        return new Restored(Integer.parseInt(meta.get("step")), Integer.parseInt(meta.get("total")),
                Double.parseDouble(meta.getOrDefault("seconds", "0")), Double.parseDouble(meta.getOrDefault("loss", "NaN")));
    }

    static void deleteState(Path out) {
        Path dir = out.resolve(STATE_DIR);
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // nothing to delete
        } catch (IOException e) {
            throw new IvkitException("cannot remove " + dir + ": " + e.getMessage(), e);
        }
    }
}
