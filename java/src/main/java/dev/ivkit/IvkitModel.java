package dev.ivkit;

import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An open model and its tokenizer ({@link Ivkit#open}): extract a task's instruction vector, fine-tune with LoRA,
 * plain or IV-guided. Confined to one thread at a time (the thread that calls its methods; a
 * {@link CancellationToken} may be cancelled from any thread). Close it to free the native memory of the model, the
 * tokenizer and the adapters this object created.
 */
public final class IvkitModel implements AutoCloseable {
    private final Path path;
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Path tokenizerPath;
    private final List<LoraAdapter> adapters = new ArrayList<>();
    private boolean closed;

    IvkitModel(Path path, LlamaModel model, Tokenizer tokenizer, Path tokenizerPath) {
        this.path = path;
        this.model = model;
        this.tokenizer = tokenizer;
        this.tokenizerPath = tokenizerPath;
    }

    /** @return the lower-level model (forward passes with hook plans, adapters); owned by this object */
    public LlamaModel llama() {
        requireOpen();
        return model;
    }

    /** @return the tokenizer; owned by this object */
    public Tokenizer tokenizer() {
        requireOpen();
        return tokenizer;
    }

    /** @return the model file or folder it was opened from */
    public Path path() {
        return path;
    }

    /** @return the tokenizer file in use */
    public Path tokenizerPath() {
        return tokenizerPath;
    }

    /**
     * {@link #extractIv(ExtractOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, prompts, scan and ranking settings
     * @return the vector with its scan scores and top heads
     */
    public ExtractResult extractIv(ExtractOptions options) {
        return extractIv(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * The instruction vector of a task, as {@code ivkit scan} followed by {@code ivkit extract} computes it with the
     * same settings: mean head activations over clean few-shot prompts ({@code MeanActivations}), each head's causal
     * indirect effect over the scanned prompts ({@code CieScan}), the top k heads by the chosen ranking
     * ({@code HeadRanking}), and {@code IV = Σ W_O[:, head] · mean z} ({@code InstructionVector.build}). Runs with
     * whatever adapter is attached to the model (none after {@link Ivkit#open}).
     *
     * <p>Cancellation is checked before the mean activations and before each scanned prompt. Without
     * {@link ExtractOptions#workDir()} the scan is held in memory and a cancelled extraction starts over when called
     * again; with it the scan is resumable ({@code dev.ivkit.pipeline.ResumableScan}, the files of
     * {@code ivkit scan --out}): called again with the same options it continues after the last prompt scored and
     * gives the same vector, bit for bit, as an uninterrupted call; a finished scan there is reused.
     *
     * @param options  task, prompts, scan and ranking settings
     * @param listener stage and per-prompt events (never null: use {@link ProgressListener#none()})
     * @param cancel   checked between prompts; cancellation throws {@link CancelledException}
     * @return the vector with its scan and top heads; close it when done
     * @throws dev.ivkit.pipeline.ScanMismatchException when the work folder holds a scan of other options (its
     *         {@code field()} names the first that differs)
     */
    public ExtractResult extractIv(ExtractOptions options, ProgressListener listener, CancellationToken cancel) {
        requireOpen();
        return FacadeExtraction.run(model, tokenizer, tokenizerPath, path, options, listener, cancel);
    }

    /**
     * {@link #train(TrainOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, IV, regulariser, LoRA and optimizer settings
     * @return per-step losses and held-out losses
     */
    public TrainResult train(TrainOptions options) {
        return train(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * LoRA fine-tuning on a task ({@code Trainer}), IV-guided when the options carry an instruction vector
     * ({@code IvGuidedRegulariser}: KL to the adapter-disabled model with the IV added, at the answer-predicting
     * position (α1) and over real positions (α2), plus head preservation (α_pr)). A fresh seeded adapter replaces
     * any adapter attached to the model, and stays attached afterwards (so the model generates and scans as
     * fine-tuned; {@code llama().detachAdapter()} restores the base model). The adapter of an earlier {@code train}
     * call is freed first: save it ({@code result.adapter().save(dir)}) before training again if it is needed. Writes what {@code ivkit train} writes
     * into {@link TrainOptions#outDir()}.
     *
     * <p>Cancellation is checked after each optimizer step (after that step's checkpoint, if one was due); a
     * cancelled or failed run detaches its adapter, and {@link TrainOptions.Builder#resume} with the same settings
     * and outDir continues from the latest checkpoint, repeating exactly what an uninterrupted run computes.
     *
     * @param options  task, IV, regulariser, LoRA and optimizer settings
     * @param listener stage and per-step events (never null: use {@link ProgressListener#none()})
     * @param cancel   checked after each step; cancellation throws {@link CancelledException}
     * @return per-step losses and held-out losses
     */
    public TrainResult train(TrainOptions options, ProgressListener listener, CancellationToken cancel) {
        requireOpen();
        cancel.throwIfCancelled("train before it started");
        releaseAdapters();
        return new FacadeTraining(path, model, tokenizer, adapters).run(options, listener, cancel);
    }

    /** Detaches and frees the adapters of earlier {@code train} calls (an adapter attached by the caller stays). */
    private void releaseAdapters() {
        if (adapters.contains(model.adapter())) {
            model.detachAdapter();
        }
        for (LoraAdapter a : adapters) {
            a.close();
        }
        adapters.clear();
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this IvkitModel is closed");
        }
    }

    /**
     * {@link #evaluate(EvaluateOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, vector, queries, settings and layers
     * @return what {@code ivkit evaluate} writes to eval.json
     */
    public dev.ivkit.results.EvalFile.Eval evaluate(EvaluateOptions options) {
        return evaluate(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * Does the instruction vector make the model do the task? {@code ivkit evaluate} with the same settings gives
     * the same numbers: zero-shot (and shuffled-label N-shot) held-out queries without and with the vector at one
     * layer or every layer, teacher-forced top-1/2/3 and NLL, greedy answers' exact match, F1 and ROUGE-L. Runs with
     * whatever adapter is attached to the model. Save the result with {@code EvalFile.write}.
     *
     * @param options  task, vector, queries, settings and layers
     * @param listener stage, messages and one step per setting and layer evaluated
     * @param cancel   checked before each setting and layer; cancellation throws {@link CancelledException}
     * @return the scores per setting and layer, with the run's settings and provenance
     */
    public dev.ivkit.results.EvalFile.Eval evaluate(EvaluateOptions options, ProgressListener listener,
            CancellationToken cancel) {
        requireOpen();
        return Evaluations.evaluate(this, options, listener, cancel);
    }

    /**
     * {@link #probe(ProbeOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, examples and demonstrations
     * @return what {@code ivkit probe} writes to probe.json
     */
    public dev.ivkit.results.ProbeFile.Probe probe(ProbeOptions options) {
        return probe(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * Knowledge vs instruction following, as {@code ivkit probe} computes it with the same settings: mean P(y | x)
     * with the bare query and mean P(y | c, x) with demonstrations or the task's instruction. Runs with whatever
     * adapter is attached to the model. Save the result with {@code ProbeFile.write}.
     *
     * @param options  task, examples and demonstrations
     * @param listener stage and messages
     * @param cancel   checked before the model runs; cancellation throws {@link CancelledException}
     * @return both probabilities, with the run's settings and provenance
     */
    public dev.ivkit.results.ProbeFile.Probe probe(ProbeOptions options, ProgressListener listener,
            CancellationToken cancel) {
        requireOpen();
        return Evaluations.probe(this, options, listener, cancel);
    }

    /** Frees the model, the tokenizer and every adapter this object created. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            releaseAdapters();
            model.close();
        } finally {
            tokenizer.close();
        }
    }
}
