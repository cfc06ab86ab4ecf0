package dev.ivkit.demo;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.KlDirection;
import dev.ivkit.MatmulPrecision;
import java.util.List;

/**
 * Sizes of one {@code ivkit demo} run.
 *
 * @param evalPerTask   test queries per task (accuracies, recovery)
 * @param valPerTask    validation queries per task (train-split words) for choosing the IV's layer and head count
 * @param ivPrompts     clean 5-shot prompts per task for mean z and the exact CIE scan
 * @param ivHeadChoices candidate top-k head counts of every task's IV, chosen with the layer on validation queries
 * @param probePerTask  examples per task in the knowledge probe
 * @param trainExamples instruction examples per fine-tuning task
 * @param epochs        passes over them (steps per task: epochs · trainExamples / batch)
 * @param batch         fine-tuning batch size
 * @param lr            fine-tuning learning rate (constant)
 * @param loraTargets   projections that get a LoRA adapter during fine-tuning
 * @param seeds         seeds 1..N per method
 * @param methods       the methods to run, a subset of {@link #METHODS} in that order
 * @param klDirection   direction of the KL terms of lwf and the IV-guided methods (default the authors' reverse KL)
 * @param alpha1        weight of the KL at the answer-predicting position against the reference with the IV (lwf: without)
 * @param alpha2        weight of the KL over every real position against the same reference
 * @param alphaPr       weight of the head-output preservation of iv-guided and lwf-pr (iv-guided-nopr and lwf: 0)
 * @param fineTuneTasks how many of the organism's held-out tasks form the fine-tuning sequence, in their order
 * @param sweep         regulariser strengths of the frontier sweep: every scale λ adds the variants {@code lwf@λ} and
 *                      {@code iv-guided@λ}, whose regulariser weights are λ times the run's (empty: no sweep)
 * @param referenceCacheTopK the KL regularisers' reference cache (lwf, lwf-pr, iv-guided, iv-guided-nopr): 0 off (the
 *                      default), {@link dev.ivkit.train.IvGuidedRegulariser#EXACT_CACHE} full rows, else the top-k kept
 * @param referencePrecision precision of those regularisers' reference GEMMs (null: {@link MatmulPrecision#FULL})
 */
public record DemoSettings(int evalPerTask, int valPerTask, int ivPrompts, List<Integer> ivHeadChoices, int probePerTask,
        int trainExamples, int epochs, int batch, double lr, List<String> loraTargets, int seeds, List<String> methods,
        KlDirection klDirection, double alpha1, double alpha2, double alphaPr, int fineTuneTasks, List<Double> sweep,
        int referenceCacheTopK, MatmulPrecision referencePrecision) {
    /**
     * Every method of the demo, in the order of its tables: the baselines (lwf-pr = lwf with iv-guided's head
     * preservation, the ablation that isolates the IV), then iv-guided and iv-guided without head preservation.
     */
    public static final List<String> METHODS = List.of("naive", "lwf", "lwf-pr", "ewc", "replay", "olora", "iv-guided",
            "iv-guided-nopr");
    /** The methods of the default run. */
    public static final List<String> DEFAULT_METHODS = List.of("naive", "lwf", "iv-guided", "iv-guided-nopr");
    /** The methods a sweep varies the strength of. */
    public static final List<String> SWEPT = List.of("lwf", "iv-guided");
    /** The regulariser scales of {@code --full}'s frontier sweep (1 is the main run's point). */
    public static final List<Double> FULL_SWEEP = List.of(0.1, 0.3, 3.0);
    /** The IV authors' weights (their seq2 script): KL at the answer position 1, KL over all positions 0.1, heads 1. */
    public static final double ALPHA1 = 1.0, ALPHA2 = 0.1, ALPHA_PR = 1.0;
    /** Every projection of a block: measured, q/v alone cannot learn prev (loss 1.88 after 144 steps at lr 1e-3). */
    static final List<String> ALL_PROJECTIONS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public DemoSettings {
        if (evalPerTask <= 0 || valPerTask <= 0 || ivPrompts <= 0 || probePerTask <= 0 || trainExamples <= 0
                || epochs <= 0 || batch <= 0 || !(lr > 0) || seeds <= 0) {
            throw new InvalidArgumentException("demo", "every size must be positive");
        }
        if (ivHeadChoices == null || ivHeadChoices.isEmpty() || ivHeadChoices.stream().anyMatch(k -> k == null || k <= 0)) {
            throw new InvalidArgumentException("ivHeadChoices", "need at least one positive head count");
        }
        if (loraTargets == null || loraTargets.isEmpty()) {
            throw new InvalidArgumentException("loraTargets", "need at least one projection");
        }
        if (referenceCacheTopK < 0) {
            throw new InvalidArgumentException("reference-cache", "must be >= 0 (0: off), got " + referenceCacheTopK);
        }
        if (methods == null || methods.isEmpty() || !METHODS.containsAll(methods)) {
            throw new InvalidArgumentException("methods", "must be a non-empty subset of " + METHODS + ", got " + methods);
        }
        if (klDirection == null) {
            throw new InvalidArgumentException("klDirection", "must be forward or reverse");
        }
        checkWeight("alpha1", alpha1);
        checkWeight("alpha2", alpha2);
        checkWeight("alphaPr", alphaPr);
        ivHeadChoices = List.copyOf(ivHeadChoices);
        loraTargets = List.copyOf(loraTargets);
        methods = METHODS.stream().filter(methods::contains).toList();
        if (fineTuneTasks <= 0) {
            throw new InvalidArgumentException("fineTuneTasks", "must be positive, got " + fineTuneTasks);
        }
        sweep = sweep == null ? List.of() : List.copyOf(sweep);
        referencePrecision = referencePrecision == null ? MatmulPrecision.FULL : referencePrecision;
        for (double l : sweep) {
            if (!(l > 0) || !Double.isFinite(l)) {
                throw new InvalidArgumentException("sweep", "every scale must be a finite number > 0, got " + l);
            }
        }
    }

    /**
     * The default demo: 40 test queries per task, 8 scan prompts, IVs of 4, 8 or 16 heads (chosen on validation),
     * 96 steps of batch 16 per fine-tuning task (512 examples, 3 epochs) with LoRA on every projection.
     */
    public static DemoSettings full(int seeds) {
        return new DemoSettings(40, 20, 8, List.of(4, 8, 16), 12, 512, 3, 16, 1e-3, ALL_PROJECTIONS, seeds, DEFAULT_METHODS,
                KlDirection.REVERSE, ALPHA1, ALPHA2, ALPHA_PR, 2, List.of(), 0, MatmulPrecision.FULL);
    }

    /**
     * The study of {@code --full}: the default sizes over a sequence of 4 fine-tuning tasks, every method, and the
     * frontier sweep of lwf and iv-guided ({@link #FULL_SWEEP}).
     */
    public static DemoSettings study(int seeds) {
        DemoSettings d = full(seeds);
        return new DemoSettings(d.evalPerTask, d.valPerTask, d.ivPrompts, d.ivHeadChoices, d.probePerTask, d.trainExamples, d.epochs,
                d.batch, d.lr, d.loraTargets, seeds, METHODS, d.klDirection, d.alpha1, d.alpha2, d.alphaPr, 4, FULL_SWEEP, 0, MatmulPrecision.FULL);
    }

    /** A much smaller run (tests): a handful of queries and 4 steps per task. */
    public static DemoSettings quick(int seeds) {
        return new DemoSettings(6, 4, 2, List.of(2, 4), 3, 32, 1, 8, 1e-3, ALL_PROJECTIONS, seeds, DEFAULT_METHODS, KlDirection.REVERSE,
                ALPHA1, ALPHA2, ALPHA_PR, 2, List.of(), 0, MatmulPrecision.FULL);
    }

    /** The same run restricted to some methods and with a KL direction. */
    public DemoSettings with(List<String> methodIds, KlDirection direction) {
        return new DemoSettings(evalPerTask, valPerTask, ivPrompts, ivHeadChoices, probePerTask, trainExamples, epochs, batch, lr,
                loraTargets, seeds, methodIds, direction, alpha1, alpha2, alphaPr, fineTuneTasks, sweep, referenceCacheTopK, referencePrecision);
    }

    /** The same run with other regulariser weights (the KL terms and head preservation). */
    public DemoSettings withWeights(double a1, double a2, double pr) {
        return new DemoSettings(evalPerTask, valPerTask, ivPrompts, ivHeadChoices, probePerTask, trainExamples, epochs, batch, lr,
                loraTargets, seeds, methods, klDirection, a1, a2, pr, fineTuneTasks, sweep, referenceCacheTopK, referencePrecision);
    }

    /** The same run over the first {@code n} held-out tasks and with the frontier sweep {@code scales}. */
    public DemoSettings withSequence(int n, List<Double> scales) {
        return new DemoSettings(evalPerTask, valPerTask, ivPrompts, ivHeadChoices, probePerTask, trainExamples, epochs, batch, lr,
                loraTargets, seeds, methods, klDirection, alpha1, alpha2, alphaPr, n, scales, referenceCacheTopK, referencePrecision);
    }

    /** The same run with the KL regularisers' reference cache: 0 off, else the top-k kept (≥ V: full rows). */
    public DemoSettings withReferenceCache(int topK) {
        return new DemoSettings(evalPerTask, valPerTask, ivPrompts, ivHeadChoices, probePerTask, trainExamples, epochs, batch, lr,
                loraTargets, seeds, methods, klDirection, alpha1, alpha2, alphaPr, fineTuneTasks, sweep, topK, referencePrecision);
    }

    /** The same run with the KL regularisers' reference GEMMs at {@code precision}. */
    public DemoSettings withReferencePrecision(MatmulPrecision precision) {
        return new DemoSettings(evalPerTask, valPerTask, ivPrompts, ivHeadChoices, probePerTask, trainExamples, epochs, batch, lr,
                loraTargets, seeds, methods, klDirection, alpha1, alpha2, alphaPr, fineTuneTasks, sweep, referenceCacheTopK, precision);
    }

    /** Every run's method variant: the methods, then per sweep scale λ the variants {@code lwf@λ} and {@code iv-guided@λ}. */
    public List<String> variants() {
        List<String> out = new java.util.ArrayList<>(methods);
        for (double l : sweep) {
            for (String m : SWEPT) {
                out.add(m + "@" + l);
            }
        }
        return out;
    }

    /** Rejects a regulariser weight that is negative, NaN or infinite, naming {@code field}. */
    public static void checkWeight(String field, double w) {
        if (!(w >= 0) || !Double.isFinite(w)) {
            throw new InvalidArgumentException(field, "must be a finite number >= 0, got " + w);
        }
    }

    public int stepsPerTask() {
        return epochs * ((trainExamples + batch - 1) / batch);
    }
}
