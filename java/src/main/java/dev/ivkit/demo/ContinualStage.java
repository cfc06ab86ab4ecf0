package dev.ivkit.demo;

import dev.ivkit.continual.IvDynamics;
import dev.ivkit.continual.Method;
import dev.ivkit.continual.MethodMemory;
import dev.ivkit.continual.RegulariserFactory;
import dev.ivkit.continual.TaskProtocol;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.model.GreedyDecoder.ResidualIv;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.SyntheticTasks;
import dev.ivkit.organism.SyntheticTasks.Task;
import dev.ivkit.results.StudyFiles;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.kernels.Parallel;
import dev.ivkit.util.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;

/**
 * Stage 3 of the demo: continual fine-tuning of the organism on the held-out tasks with every method and seed, and
 * the measurements after each stage.
 */
final class ContinualStage {
    private final Path organismDir;
    private final dev.ivkit.model.Device device;   // where each run's model is loaded
    private final Path out;
    private final DemoSettings s;
    private final SyntheticTasks tasks;
    private final CharTokenizer tok;
    private final IvChooser chooser;
    private final List<Task> pre, held;
    private final Map<String, InstructionVector> ivs;
    private final Map<String, Integer> bestLayer;
    private final Map<String, Boolean> everyToken;

    /** {@code ivs}, {@code bestLayer} and {@code everyToken}: every task's IV and its chosen layer and positions. */
    ContinualStage(Path organismDir, dev.ivkit.model.Device device, Path out, DemoSettings s, SyntheticTasks tasks, CharTokenizer tok, IvChooser chooser,
            Map<String, InstructionVector> ivs, Map<String, Integer> bestLayer, Map<String, Boolean> everyToken) {
        this.organismDir = organismDir;
        this.device = device;
        this.out = out;
        this.s = s;
        this.tasks = tasks;
        this.tok = tok;
        this.chooser = chooser;
        this.pre = tasks.pretrainTasks();
        this.held = Demo.sequence(tasks, s);
        this.ivs = ivs;
        this.bestLayer = bestLayer;
        this.everyToken = everyToken;
    }

    /**
     * What is measured after a stage; {@code sim} is null for the organism (nothing fine-tuned yet); {@code icl} is the
     * 5-shot accuracy of every pretrained task (NaN where not measured: only the organism and the last stage are).
     */
    record Stage(double[] instr, double[] heldAcc, double[] knowledgeP, double[] instructionP, double[] withIv, double[] icl,
            Similarity sim) {
        double meanInstr() {
            return mean(instr);
        }

        Stage with(Similarity s) {
            return new Stage(instr, heldAcc, knowledgeP, instructionP, withIv, icl, s);
        }

        static double mean(double[] v) {
            return java.util.Arrays.stream(v).average().orElse(Double.NaN);
        }
    }

    /**
     * Every IV re-extracted on the fine-tuned model (same prompts and heads) against the organism's: cosine and top-k head
     * Jaccard per pretrained task and per fine-tuning task (NaN for those not trained yet).
     */
    record Similarity(double[] preCosine, double[] preJaccard, double[] heldCosine, double[] heldJaccard) {
        /** Not measured (a sweep run's intermediate stage): every entry NaN. */
        static Similarity none(int pre, int held) {
            return new Similarity(nan(pre), nan(pre), nan(held), nan(held));
        }
    }

    static double[] nan(int n) {
        double[] v = new double[n];
        java.util.Arrays.fill(v, Double.NaN);
        return v;
    }

    record Run(List<Stage> stages, List<Double> trainLoss) {}

    /**
     * Instruction accuracy of every task, probe probabilities of the pretrained tasks and, when asked, the pre-FT IV
     * recovery and the pretrained tasks' 5-shot accuracy.
     */
    Stage measure(LlamaModel model, boolean recovery, boolean icl) {
        double[] instr = new double[pre.size()], kp = new double[pre.size()], ip = new double[pre.size()], with = new double[pre.size()];
        double[] few = nan(pre.size());
        for (int j = 0; j < pre.size(); j++) {
            Task t = pre.get(j);
            List<Prompt> ins = chooser.instruction(t, s.evalPerTask());
            instr[j] = Organism.accuracy(model, tok, ins);
            if (icl) {
                few[j] = Organism.accuracy(model, tok, chooser.fewShotTest(t, s.evalPerTask()));
            }
            List<TaskExample> qs = tasks.dataset(t, true, s.probePerTask(), Demo.EVAL_SEED).examples();
            KnowledgeProbe.Result k = new KnowledgeProbe(model, tok).run(qs.stream().map(SyntheticTasks::bare).toList(),
                    qs.stream().map(q -> SyntheticTasks.instruction(t, q)).toList());
            kp[j] = k.bare();
            ip[j] = k.instructed();
            with[j] = recovery ? Organism.accuracy(model, tok, ins,
                    new ResidualIv(ivs.get(t.name()).vector(), bestLayer.get(t.name()), everyToken.get(t.name())))
                    : Double.NaN;
        }
        double[] h = new double[held.size()];
        for (int j = 0; j < held.size(); j++) {
            h[j] = Organism.accuracy(model, tok, chooser.instruction(held.get(j), s.evalPerTask()));
        }
        return new Stage(instr, h, kp, ip, with, few, null);
    }

    /** The IV similarity of every pretrained task and of the first {@code trained} fine-tuning tasks ({@link IvDynamics#compare}). */
    Similarity similarity(LlamaModel model, int trained) {
        double[] pc = new double[pre.size()], pj = new double[pre.size()], hc = new double[held.size()], hj = new double[held.size()];
        java.util.Arrays.fill(hc, Double.NaN);
        java.util.Arrays.fill(hj, Double.NaN);
        for (int j = 0; j < pre.size(); j++) {
            IvDynamics.Comparison c = compare(model, pre.get(j));
            pc[j] = c.cosine();
            pj[j] = c.headJaccard();
        }
        for (int j = 0; j < trained; j++) {
            IvDynamics.Comparison c = compare(model, held.get(j));
            hc[j] = c.cosine();
            hj[j] = c.headJaccard();
        }
        return new Similarity(pc, pj, hc, hj);
    }

    private IvDynamics.Comparison compare(LlamaModel model, Task t) {
        return IvDynamics.compare(model, chooser.ivPrompts(t), ivs.get(t.name()), Map.of("task", t.name()));
    }

    /**
     * Every (method, seed) run of the continual stage, on as many threads as there are cores (each run loads its own
     * model and is single-threaded, with single-threaded BLAS while they run), collected in method-then-seed order:
     * the runs are independent, so the results do not depend on the thread count. Runs an interrupted attempt finished
     * are read back ({@link RunCache}).
     */
    Map<String, List<Run>> runAll(Stage base) {
        record Job(String method, int seed) {}
        List<Job> jobs = new ArrayList<>();
        for (String m : s.variants()) {
            for (int seed = 1; seed <= s.seeds(); seed++) {
                jobs.add(new Job(m, seed));
            }
        }
        boolean oneThread = Parallel.workers(jobs.size()) == 1;
        RunCache cache = new RunCache(out, organismDir, s);
        List<Run> done = Parallel.map(jobs, new Progress("fine-tuning", jobs.size()), j -> j.method() + " seed " + j.seed(),
                j -> cache.get(j.method(), j.seed()).orElseGet(() -> {
                    Run r = runOne(j.method(), j.seed(), base, oneThread);
                    cache.put(j.method(), j.seed(), r);
                    return r;
                }));
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            runs.computeIfAbsent(jobs.get(i).method(), k -> new ArrayList<>()).add(done.get(i));
        }
        return runs;
    }

    private Run runOne(String id, int seed, Stage base, boolean progressBars) {
        Path work = out.resolve("work").resolve(id + "-seed-" + seed);
        StudyFiles.deleteTree(work);   // what an interrupted attempt left of this run
        List<Stage> stages = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        stages.add(base);
        Method method = method(id);
        boolean sweepPoint = id.contains("@");   // a frontier point: recovery and IV similarity after the last task only
        RegulariserFactory regs = regularisers(id, s);
        LoraConfig lora = new LoraConfig(8, 16, 0.0, s.loraTargets());
        try (LlamaModel model = ModelLoader.load(organismDir, torch.ScalarType.Float, device, null);
                MethodMemory memory = new MethodMemory(method, seed, REPLAY_PER_TASK, REPLAY_RATIO, EWC_EXAMPLES, s.loraTargets())) {
            for (int k = 0; k < held.size(); k++) {
                Task t = held.get(k);
                List<TokenizedPrompt> own = new ArrayList<>();
                for (TaskExample e : tasks.dataset(t, false, s.trainExamples(), Demo.TRAIN_SEED + seed).examples()) {
                    own.add(TokenizedPrompt.of(tok, SyntheticTasks.instruction(t, e).text(), e.output() + SyntheticTasks.END));
                }
                TrainConfig cfg = TaskProtocol.trainConfig(s.lr(), s.epochs(), s.batch(), 1, 1.0, TaskProtocol.taskSeed(seed, k), 1000);
                Regulariser reg = memory.regulariser(regs, model, ivs.get(t.name()), bestLayer.get(t.name()));
                int taskIndex = k;
                losses.add(TaskProtocol.trainAndMerge(model, lora, cfg, reg, memory.trainingData(k, own), work.resolve("task-" + k),
                        !progressBars, a -> memory.afterMerge(taskIndex, a, own)));
                memory.afterTask(model, own);
                boolean last = k == held.size() - 1, full = last || !sweepPoint;
                Stage st = measure(model, full, last);
                stages.add(st.with(full ? similarity(model, k + 1) : Similarity.none(pre.size(), held.size())));
            }
        }
        StudyFiles.deleteTree(work);
        return new Run(stages, losses);
    }

    /** The continual method of a demo method variant: iv-guided-nopr is IV-guided without head preservation. */
    static Method method(String id) {
        String base = baseMethod(id);
        return base.equals("iv-guided-nopr") ? Method.IV_GUIDED : Method.parse(base);
    }

    /** A variant's method id: {@code lwf@0.3} → {@code lwf}. */
    static String baseMethod(String id) {
        int at = id.indexOf('@');
        return at < 0 ? id : id.substring(0, at);
    }

    /** A variant's regulariser scale: {@code lwf@0.3} → 0.3, a plain method 1. */
    static double scale(String id) {
        int at = id.indexOf('@');
        return at < 0 ? 1 : Double.parseDouble(id.substring(at + 1));
    }

    /**
     * The regulariser weights of a demo method variant: the demo's KL direction and temperature, the IV added after its
     * chosen layer (resid_post, the site of the bare 0-shot + IV evaluation), head preservation only for iv-guided and
     * lwf-pr, every weight times the variant's scale; the runner's EWC and O-LoRA strengths.
     */
    static RegulariserFactory regularisers(String id, DemoSettings s) {
        String base = baseMethod(id);
        double l = scale(id);
        boolean pr = base.equals("iv-guided") || base.equals("lwf-pr");
        return new RegulariserFactory(l * s.alpha1(), l * s.alpha2(), pr ? l * s.alphaPr() : 0, Demo.TEMPERATURE,
                s.klDirection(), IvGuidedRegulariser.Site.RESID_POST, EWC_LAMBDA, OLORA_LAMBDA, s.referenceCacheTopK(),
                s.referencePrecision());
    }

    /** EWC, replay and O-LoRA settings: the continual runner's defaults ({@code SequenceSpec.Hyper}). */
    static final double EWC_LAMBDA = 100.0, OLORA_LAMBDA = 0.5, REPLAY_RATIO = 0.2;
    static final int EWC_EXAMPLES = 32, REPLAY_PER_TASK = 64;
}
