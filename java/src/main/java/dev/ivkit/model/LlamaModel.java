package dev.ivkit.model;

import static dev.ivkit.model.WeightNames.*;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.util.Torch;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A Llama-family decoder over libtorch: RMSNorm, rotary embeddings (interleaved or rotate-half, Llama-3 scaling),
 * grouped-query attention, SwiGLU MLP, tied or untied embeddings, causal mask with left padding, KV cache;
 * float32, bfloat16 or float16 weights (norms and softmax computed in float32).
 *
 * <p>{@link #forward} takes token ids [batch, pos] (+ an attention mask for left padding) and a {@link HookPlan}
 * naming the activations to capture. The model owns its weight tensors ({@link #close()} frees them). It is confined
 * to one thread: a forward entered from a second thread while one runs fails with {@link IllegalStateException}.
 * Wrap calls in a {@code PointerScope}; the returned tensors live in it.
 *
 * <p>Logits are a fresh tensor per call unless the caller passes {@link LogitsBuffer#WORKSPACE}: then they are written
 * into the model's reusable logits workspace (bounded, freed by {@link #close()}) and stay valid only until the next
 * {@code WORKSPACE} forward of this instance; see {@link LogitsBuffer} for the contract. The library's own
 * consume-at-once call sites (scans, evaluation scores, greedy decoding, sampling) use it.
 */
public final class LlamaModel implements AutoCloseable {
    private final ModelConfig cfg;
    private final torch.ScalarType dtype;
    private final Map<String, Tensor> weights;
    private final Tensor embed;
    private final DecoderBlocks blocks;
    private final Device device;
    private final ForwardPass pass;
    private final boolean ownsWeights;
    private final AtomicBoolean busy = new AtomicBoolean();

    /**
     * Builds a model from weights named by {@link WeightNames}; converts them to {@code dtype} (null keeps the first
     * weight's dtype). Takes ownership of the map's tensors.
     *
     * @param cfg     the architecture
     * @param weights every weight the config implies, by canonical name (the model takes them over)
     * @param dtype   compute dtype, or null for the first weight's
     */
    public LlamaModel(ModelConfig cfg, Map<String, Tensor> weights, torch.ScalarType dtype) {
        this(cfg, weights, dtype, null);
    }

    /**
     * As {@link #LlamaModel(ModelConfig, Map, torch.ScalarType)}, moving each weight to {@code device} (null: where
     * the weights are) in the same step as the dtype conversion, one tensor at a time.
     *
     * @param cfg     the architecture
     * @param weights every weight the config implies, by canonical name (the model takes them over)
     * @param dtype   compute dtype, or null for the first weight's
     * @param device  where the weights go, or null to leave them where they are
     */
    public LlamaModel(ModelConfig cfg, Map<String, Tensor> weights, torch.ScalarType dtype, Device device) {
        Torch.init();
        this.cfg = cfg;
        Tensor first = ModelWeights.require(weights, EMBED);
        this.dtype = dtype != null ? dtype : Torch.dtype(first);
        Device target = device != null ? device.requireAvailable() : Device.of(first);
        Map<String, Tensor> w = ModelWeights.convert(weights, this.dtype, target);
        this.weights = w;
        this.embed = ModelWeights.require(w, EMBED);
        DecoderBlocks.Layer[] layers = ModelWeights.layers(cfg, w);
        this.device = target;
        this.blocks = new DecoderBlocks(cfg, this.dtype, layers, ModelWeights.require(w, FINAL_NORM),
                cfg.tiedEmbeddings() ? embed : ModelWeights.require(w, LM_HEAD), target);
        this.pass = new ForwardPass(cfg, this.dtype, embed, blocks, target);
        this.ownsWeights = true;
    }

    private LlamaModel(LlamaModel o) {
        this.cfg = o.cfg;
        this.dtype = o.dtype;
        this.weights = o.weights;
        this.embed = o.embed;
        this.device = o.device;
        this.blocks = o.blocks.replica();
        this.pass = new ForwardPass(o.cfg, o.dtype, o.embed, blocks, o.device);
        this.ownsWeights = false;
    }

    /**
     * A second model over the same weight tensors, for another thread (a model is confined to one): data-parallel
     * training runs one replica per shard. It has no adapter and its own logits workspace; closing it frees only its
     * own RoPE tables and workspace, and it must
     * not be used after this model is closed.
     *
     * @return a replica sharing this model's weights
     */
    public LlamaModel replica() {
        return new LlamaModel(this);
    }

    /**
     * The architecture.
     *
     * @return the model's configuration
     */
    public ModelConfig config() {
        return cfg;
    }

    /**
     * The compute dtype of the weights and activations.
     *
     * @return the dtype
     */
    public torch.ScalarType dtype() {
        return dtype;
    }

    /**
     * Where the weights live; every tensor a forward creates is created there too.
     *
     * @return the model's device
     */
    public Device device() {
        return device;
    }

    /**
     * The weights by canonical name (read-only view; the tensors are the model's own).
     *
     * @return the weights (unmodifiable)
     */
    public Map<String, Tensor> weights() {
        return weights;
    }

    /**
     * A KV cache for {@code batch} rows and up to {@code capacity} positions (≤ the context length).
     *
     * @param batch    rows the cache holds
     * @param capacity positions the cache holds (prompt and generated)
     * @return an empty cache on the model's device
     */
    public KvCache newCache(int batch, int capacity) {
        if (capacity <= 0 || capacity > cfg.maxSeqLen()) {
            throw new InvalidArgumentException("capacity", capacity + " is out of range [1, " + cfg.maxSeqLen() + "]");
        }
        if (batch <= 0) {
            throw new InvalidArgumentException("batch", "must be positive, got " + batch);
        }
        return new KvCache(cfg, batch, capacity, dtype, device);
    }

    /**
     * Token embeddings [batch, pos, d_model] (blocks.0.hook_resid_pre) of ids [batch, pos].
     *
     * @param tokens [batch, pos] int64 ids
     * @return the embeddings, in the model's dtype
     */
    public Tensor embedTokens(Tensor tokens) {
        tokens = pass.here(tokens);
        long b = tokens.size(0), t = tokens.size(1);
        return Torch.rows(embed, tokens.reshape(-1)).reshape(b, t, cfg.dModel());
    }

    /**
     * Full-sequence forward without padding: logits [batch, pos, vocab].
     *
     * @param tokens [batch, pos] int64 ids
     * @param plan   captures and interventions, or null
     * @return logits of every position and the plan's captures
     */
    public RunResult forward(Tensor tokens, HookPlan plan) {
        return forward(tokens, null, plan, null, LogitsMode.ALL);
    }

    /**
     * The forward pass: left-padded tokens, a hook plan, an optional KV cache, logits where asked.
     *
     * @param tokens        [batch, pos] int64 ids
     * @param attentionMask [batch, pos] (1 = real token, 0 = left padding) or null for no padding
     * @param plan          captures; validated against the model and the input first
     * @param cache         KV cache to read the earlier positions from and append these to, or null
     * @param logitsMode    which positions get logits
     * @return logits per {@code logitsMode} and the plan's captures
     */
    public RunResult forward(Tensor tokens, Tensor attentionMask, HookPlan plan, KvCache cache, LogitsMode logitsMode) {
        return forward(tokens, attentionMask, plan, cache, logitsMode, LogitsBuffer.FRESH);
    }

    /**
     * As {@link #forward(Tensor, Tensor, HookPlan, KvCache, LogitsMode)}, writing the logits where {@code buffer} says:
     * with {@link LogitsBuffer#WORKSPACE} they are overwritten by this model's next {@code WORKSPACE} forward.
     *
     * @param tokens        [batch, pos] int64 ids
     * @param attentionMask [batch, pos] (1 = real token, 0 = left padding) or null for no padding
     * @param plan          captures; validated against the model and the input first
     * @param cache         KV cache to read the earlier positions from and append these to, or null
     * @param logitsMode    which positions get logits
     * @param buffer        a fresh logits tensor, or the model's workspace (contract: {@link LogitsBuffer})
     * @return logits per {@code logitsMode} and the plan's captures
     */
    public RunResult forward(Tensor tokens, Tensor attentionMask, HookPlan plan, KvCache cache, LogitsMode logitsMode,
            LogitsBuffer buffer) {
        return confined(() -> pass.run(tokens, null, 0, attentionMask, plan == null ? HookPlan.empty() : plan, cache, logitsMode, buffer));
    }

    /**
     * Runs layers {@code [startLayer, nLayers)} on a residual stream {@code residIn} = blocks.startLayer.hook_resid_pre
     * [batch, pos, d_model] of a (left-padded) batch: the second half of a forward whose first half was run before.
     * Hooks at earlier layers are an error. With a cache, these positions follow the cached ones: layers from
     * {@code startLayer} on read the cached keys and values and append these positions' (the cache's earlier layers
     * are left stale), so a cache filled by a full forward and {@link KvCache#truncate rewound} reruns a suffix.
     *
     * @param startLayer    first layer to run
     * @param residIn       [batch, pos, d_model] blocks.startLayer.hook_resid_pre
     * @param attentionMask [batch, pos] (1 = real token, 0 = left padding) or null for no padding
     * @param plan          hooks at layers from {@code startLayer} on, or null
     * @param cache         KV cache of the earlier positions to read and append to, or null
     * @param logitsMode    which positions get logits
     * @return logits per {@code logitsMode} and the plan's captures
     */
    public RunResult forwardFrom(int startLayer, Tensor residIn, Tensor attentionMask, HookPlan plan, KvCache cache,
            LogitsMode logitsMode) {
        if (startLayer < 0 || startLayer >= cfg.nLayers()) {
            throw new InvalidArgumentException("startLayer", startLayer + " is out of range [0, " + cfg.nLayers() + ")");
        }
        if (residIn.dim() != 3 || residIn.size(2) != cfg.dModel()) {
            throw new InvalidArgumentException("residIn", "expected [batch, pos, " + cfg.dModel() + "], got " + Torch.shape(residIn));
        }
        HookPlan p = plan == null ? HookPlan.empty() : plan;
        ForwardMasks.requireLayersFrom(p, startLayer);
        return confined(() -> pass.run(null, residIn, startLayer, attentionMask, p, cache, logitsMode, LogitsBuffer.FRESH));
    }

    /**
     * Runs layers {@code [startLayer, nLayers)} on a residual stream for the positions that follow a cached prefix,
     * without changing the cache: the suffix evaluation behind the exact fast scan. Every row of {@code residIn}
     * continues the same prefix (the cache's keys/values are broadcast over rows).
     *
     * @param startLayer first layer to run
     * @param residIn    [rows, suffix, d_model]: blocks.startLayer.hook_resid_pre of positions prefix.length() ...
     * @param prefix     a batch-1 cache of the prefix, without padding
     * @param plan       hooks; their positions index the suffix, their layers must be ≥ startLayer
     * @param logitsMode which positions get logits
     * @return logits per {@code logitsMode} and the plan's captures
     */
    public RunResult forwardSuffix(int startLayer, Tensor residIn, KvCache prefix, HookPlan plan, LogitsMode logitsMode) {
        return forwardSuffix(startLayer, cfg.nLayers(), residIn, prefix, plan, logitsMode, LogitsBuffer.FRESH);
    }

    /**
     * {@link #forwardSuffix(int, Tensor, KvCache, HookPlan, LogitsMode)} through layers {@code [startLayer, endLayer)}
     * only: short of the last layer there are no logits, and the output is the capture of
     * blocks.endLayer.hook_resid_pre (the only hook after the range allowed), the next call's input.
     *
     * @param startLayer first layer to run
     * @param endLayer   one past the last layer to run, in (startLayer, nLayers]
     * @param residIn    [rows, suffix, d_model]: blocks.startLayer.hook_resid_pre of positions prefix.length() ...
     * @param prefix     a batch-1 cache of the prefix, without padding
     * @param plan       hooks; their positions index the suffix, their layers in [startLayer, endLayer)
     * @param logitsMode which positions get logits; NONE when endLayer is not the last layer
     * @param buffer     a fresh logits tensor, or the model's workspace (contract: {@link LogitsBuffer})
     * @return logits per {@code logitsMode} and the plan's captures
     * @throws InvalidArgumentException on a layer range, hook or logits mode outside these rules
     */
    public RunResult forwardSuffix(int startLayer, int endLayer, Tensor residIn, KvCache prefix, HookPlan plan,
            LogitsMode logitsMode, LogitsBuffer buffer) {
        return confined(() -> SuffixForward.run(pass, startLayer, endLayer, residIn, prefix, plan, logitsMode, buffer));
    }

    /** Runs a forward body under the one-thread confinement check. */
    private RunResult confined(java.util.function.Supplier<RunResult> body) {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("LlamaModel is confined to one thread: a forward is already running");
        }
        try {
            return body.get();
        } finally {
            busy.set(false);
        }
    }

    /**
     * The language-model head on final-norm outputs (hook_ln_final) [..., d_model]: logits [..., vocab] as a forward
     * computes them, so that a caller can splice the final hidden states of two passes before one lm_head GEMM.
     *
     * @param lnFinal the final RMSNorm's output, in the model's dtype and on its device
     * @return fresh logits
     */
    public Tensor unembed(Tensor lnFinal) {
        return blocks.unembed(lnFinal);
    }

    /**
     * Bytes the logits workspace of this instance holds now: 0 until a {@link LogitsBuffer#WORKSPACE} forward used it
     * and after {@link #close()}; at most 256 MiB.
     *
     * @return the workspace's size in bytes
     */
    public long logitsWorkspaceBytes() {
        return blocks.logitsWorkspace.bytes();
    }

    /** @return bytes of the bfloat16 weight copies kept for reduced-products passes (≤ half the float32 weights; 0 after close) */
    public long reducedWeightBytes() {
        return blocks.reduced.bytes();
    }

    // ---- LoRA (state and arithmetic in LoraSlot) ------------------------------------------------------------------

    /**
     * Attaches a LoRA adapter (not owned: the caller closes it), moved to this model's device. It must fit its shapes.
     *
     * @param a the adapter
     */
    public void attachAdapter(LoraAdapter a) {
        blocks.lora.attach(cfg, device, a);
    }

    /**
     * Removes the adapter (without merging); returns it.
     *
     * @return the adapter that was attached, or null
     */
    public LoraAdapter detachAdapter() {
        return blocks.lora.detach();
    }

    /**
     * The attached adapter.
     *
     * @return the adapter, or null when none is attached
     */
    public LoraAdapter adapter() {
        return blocks.lora.adapter();
    }

    /**
     * Runs with or without the attached adapter's update (the reference pass of IV-guided training disables it).
     *
     * @param enabled apply the adapter's update
     */
    public void setAdapterEnabled(boolean enabled) {
        blocks.lora.setEnabled(enabled);
    }

    /**
     * Whether the attached adapter's update is applied.
     *
     * @return true when enabled
     */
    public boolean adapterEnabled() {
        return blocks.lora.enabled();
    }

    /**
     * Training mode: LoRA dropout active.
     *
     * @param training activate LoRA dropout
     */
    public void setTraining(boolean training) {
        blocks.lora.setTraining(training);
    }

    /**
     * Whether LoRA dropout is active.
     *
     * @return true in training mode
     */
    public boolean training() {
        return blocks.lora.training();
    }

    /**
     * Adds the attached adapter into the weights ({@code W += (alpha/r) B A}) and detaches it: the continual protocol
     * merges each finished task's adapter before a fresh one is created.
     */
    public void mergeAdapter() {
        blocks.lora.merge(cfg, weights, dtype);
    }

    /**
     * Subtracts a previously merged adapter from the weights (up to float rounding).
     *
     * @param a the adapter that was merged
     */
    public void unmergeAdapter(LoraAdapter a) {
        LoraSlot.applyDelta(cfg, weights, dtype, a, -1.0);
    }

    @Override
    public void close() {
        if (ownsWeights) {
            for (Tensor t : weights.values()) {
                t.close();
            }
        }
        blocks.close();
    }
}
