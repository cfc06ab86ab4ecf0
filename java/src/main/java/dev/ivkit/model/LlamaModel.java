package dev.ivkit.model;

import static dev.ivkit.model.WeightNames.*;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.util.Torch;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.pytorch.Scalar;
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
 */
public final class LlamaModel implements AutoCloseable {
    private final ModelConfig cfg;
    private final torch.ScalarType dtype;
    private final Map<String, Tensor> weights;
    private final Tensor embed;
    private final DecoderBlocks blocks;
    private final Device device;
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
        Tensor first = require(weights, EMBED);
        this.dtype = dtype != null ? dtype : Torch.dtype(first);
        Device target = device != null ? device.requireAvailable() : Device.of(first);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : weights.entrySet()) {
            Tensor t = e.getValue();
            if (Torch.dtype(t) != this.dtype || !Device.of(t).equals(target)) {
                Tensor converted = t.to(target.torch(), this.dtype);
                t.close();
                t = converted;
            }
            w.put(e.getKey(), t);
        }
        this.weights = Collections.unmodifiableMap(w);
        this.embed = require(w, EMBED);
        DecoderBlocks.Layer[] layers = new DecoderBlocks.Layer[cfg.nLayers()];
        for (int l = 0; l < cfg.nLayers(); l++) {
            boolean bias = cfg.attentionBias();
            layers[l] = new DecoderBlocks.Layer(require(w, attnNorm(l)), require(w, q(l)), require(w, k(l)), require(w, v(l)),
                    bias ? require(w, qBias(l)) : null, bias ? require(w, kBias(l)) : null, bias ? require(w, vBias(l)) : null,
                    require(w, o(l)), require(w, mlpNorm(l)), require(w, gate(l)), require(w, up(l)), require(w, down(l)));
        }
        this.device = target;
        this.blocks = new DecoderBlocks(cfg, this.dtype, layers, require(w, FINAL_NORM),
                cfg.tiedEmbeddings() ? embed : require(w, LM_HEAD), target);
        this.ownsWeights = true;
    }

    private LlamaModel(LlamaModel o) {
        this.cfg = o.cfg;
        this.dtype = o.dtype;
        this.weights = o.weights;
        this.embed = o.embed;
        this.device = o.device;
        this.blocks = o.blocks.replica();
        this.ownsWeights = false;
    }

    /**
     * A second model over the same weight tensors, for another thread (a model is confined to one): data-parallel
     * training runs one replica per shard. It has no adapter; closing it frees only its own RoPE tables, and it must
     * not be used after this model is closed.
     *
     * @return a replica sharing this model's weights
     */
    public LlamaModel replica() {
        return new LlamaModel(this);
    }

    private static Tensor require(Map<String, Tensor> w, String name) {
        Tensor t = w.get(name);
        if (t == null) {
            throw new IvkitException("missing weight " + name);
        }
        return t;
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

    /** Options of {@code type} on the model's device. */
    private org.bytedeco.pytorch.TensorOptions on(torch.ScalarType type) {
        return Torch.options(type).device(new org.bytedeco.pytorch.DeviceOptional(device.torch()));
    }

    /** {@code t} on the model's device (no copy when it is there already). */
    private Tensor here(Tensor t) {
        return Device.of(t).equals(device) ? t : t.to(device.torch(), Torch.dtype(t));
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
        tokens = here(tokens);
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
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("LlamaModel is confined to one thread: a forward is already running");
        }
        try {
            return doForward(tokens, attentionMask, plan == null ? HookPlan.empty() : plan, cache, logitsMode);
        } finally {
            busy.set(false);
        }
    }

    /**
     * Runs layers {@code [startLayer, nLayers)} on a residual stream {@code residIn} = blocks.startLayer.hook_resid_pre
     * [batch, pos, d_model] of a (left-padded) batch: the second half of a forward whose first half was run before.
     * Hooks at earlier layers are an error.
     *
     * @param startLayer    first layer to run
     * @param residIn       [batch, pos, d_model] blocks.startLayer.hook_resid_pre
     * @param attentionMask [batch, pos] (1 = real token, 0 = left padding) or null for no padding
     * @param plan          hooks at layers from {@code startLayer} on, or null
     * @param logitsMode    which positions get logits
     * @return logits per {@code logitsMode} and the plan's captures
     */
    public RunResult forwardFrom(int startLayer, Tensor residIn, Tensor attentionMask, HookPlan plan, LogitsMode logitsMode) {
        if (startLayer < 0 || startLayer >= cfg.nLayers()) {
            throw new InvalidArgumentException("startLayer", startLayer + " is out of range [0, " + cfg.nLayers() + ")");
        }
        if (residIn.dim() != 3 || residIn.size(2) != cfg.dModel()) {
            throw new InvalidArgumentException("residIn", "expected [batch, pos, " + cfg.dModel() + "], got " + Torch.shape(residIn));
        }
        plan = plan == null ? HookPlan.empty() : plan;
        ForwardMasks.requireLayersFrom(plan, startLayer);
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("LlamaModel is confined to one thread: a forward is already running");
        }
        try {
            return doForward(null, residIn, startLayer, attentionMask, plan, null, logitsMode);
        } finally {
            busy.set(false);
        }
    }

    private RunResult doForward(Tensor tokens, Tensor attentionMask, HookPlan plan, KvCache cache, LogitsMode logitsMode) {
        return doForward(tokens, null, 0, attentionMask, plan, cache, logitsMode);
    }

    private RunResult doForward(Tensor tokens, Tensor residIn, int startLayer, Tensor attentionMask, HookPlan plan, KvCache cache,
            LogitsMode logitsMode) {
        int batch, seqLen;
        if (residIn != null) {
            batch = (int) residIn.size(0);
            seqLen = (int) residIn.size(1);
        } else {
            if (tokens.dim() != 2 || Torch.dtype(tokens) != torch.ScalarType.Long) {
                throw new InvalidArgumentException("tokens", "expected int64 [batch, pos], got " + Torch.dtype(tokens) + " " + Torch.shape(tokens));
            }
            batch = (int) tokens.size(0);
            seqLen = (int) tokens.size(1);
            if (seqLen == 0) {
                throw new InvalidArgumentException("tokens", "empty sequence");
            }
            ForwardMasks.requireIdsInRange(tokens, cfg.vocabSize());
            tokens = here(tokens);
        }
        int past = cache == null ? 0 : cache.length();
        if (cache != null && cache.batch() != batch) {
            throw new InvalidArgumentException("cache", "cache batch " + cache.batch() + " differs from input batch " + batch);
        }
        int total = past + seqLen;
        if (total > (cache == null ? cfg.maxSeqLen() : cache.capacity())) {
            throw new InvalidArgumentException("tokens", "sequence of " + total + " positions exceeds "
                    + (cache == null ? "the context length " + cfg.maxSeqLen() : "the cache capacity " + cache.capacity()));
        }
        Tensor mask;  // [batch, pos] bool, true = real
        if (attentionMask == null) {
            mask = torch.ones(new long[] {batch, seqLen}, on(torch.ScalarType.Bool));
        } else {
            if (attentionMask.dim() != 2 || attentionMask.size(0) != batch || attentionMask.size(1) != seqLen) {
                throw new InvalidArgumentException("attentionMask", "expected [" + batch + ", " + seqLen + "], got " + Torch.shape(attentionMask));
            }
            mask = here(attentionMask).to(torch.ScalarType.Bool);
        }
        // padding is read from the caller's mask where it lives (a host mask: no device round trip); meta has no values
        long[] padding = attentionMask == null || attentionMask.is_meta() ? null : ForwardMasks.leftPadding(attentionMask, batch, seqLen);
        plan.validate(hookShape(), batch, seqLen, padding);

        // rotary positions: count of real tokens before each position (left padding shifts them), clamped at 0
        Tensor realBefore = mask.to(torch.ScalarType.Long).cumsum(1).sub(new Scalar(1));
        if (cache != null) {
            realBefore = realBefore.add(cache.realCount.unsqueeze(1));
        }
        Tensor positions = realBefore.clamp_min(new Scalar(0));  // [batch, pos]

        Tensor keyMask = cache == null ? mask : ForwardMasks.writeCacheMask(cache, mask, past, seqLen);
        Tensor allowed = attentionMask == null && cache == null ? null
                : ForwardMasks.allowed(keyMask, past, seqLen, on(torch.ScalarType.Long));
        Rope.Angles angles = blocks.rope.angles(positions, dtype);

        Map<HookSite, Tensor> captures = new LinkedHashMap<>();
        PlanExecutor hooks = new PlanExecutor(plan, batch, seqLen, dtype, captures);
        Tensor x;
        if (residIn == null) {
            x = Torch.rows(embed, tokens.reshape(-1)).reshape(batch, seqLen, cfg.dModel());  // [batch, pos, d_model]
            hooks.capture(HookSite.embed(), x);
        } else {
            x = here(residIn).to(dtype);
        }
        DecoderBlocks.KeyValues kv = cache == null ? (l, k, v) -> new Tensor[] {k, v} : (l, k, v) -> {
            cache.k[l].narrow(2, past, seqLen).copy_(k);
            cache.v[l].narrow(2, past, seqLen).copy_(v);
            return new Tensor[] {cache.k[l].narrow(2, 0, total), cache.v[l].narrow(2, 0, total)};
        };
        for (int l = startLayer; l < cfg.nLayers(); l++) {
            x = blocks.block(l, x, angles, allowed, kv, hooks);
        }
        if (cache != null) {
            cache.realCount.add_(mask.to(torch.ScalarType.Long).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
            cache.advance(seqLen);
        }
        Tensor logits = blocks.lmHead(x, plan, hooks, logitsMode);
        return new RunResult(logits, captures);
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
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("LlamaModel is confined to one thread: a forward is already running");
        }
        try {
            if (startLayer < 0 || startLayer >= cfg.nLayers()) {
                throw new InvalidArgumentException("startLayer", startLayer + " is out of range [0, " + cfg.nLayers() + ")");
            }
            if (residIn.dim() != 3 || residIn.size(2) != cfg.dModel()) {
                throw new InvalidArgumentException("residIn", "expected [rows, suffix, " + cfg.dModel() + "], got " + Torch.shape(residIn));
            }
            if (prefix.batch() != 1) {
                throw new InvalidArgumentException("prefix", "expected a batch-1 cache, got batch " + prefix.batch());
            }
            plan = plan == null ? HookPlan.empty() : plan;
            int rows = (int) residIn.size(0), seqLen = (int) residIn.size(1), past = prefix.length(), total = past + seqLen;
            if (total > cfg.maxSeqLen()) {
                throw new InvalidArgumentException("residIn", "prefix + suffix of " + total + " positions exceeds the context length " + cfg.maxSeqLen());
            }
            plan.validate(hookShape(), rows, seqLen, null);
            ForwardMasks.requireLayersFrom(plan, startLayer);
            Tensor positions = torch.arange(new Scalar(past), new Scalar(total), on(torch.ScalarType.Long)).reshape(1, seqLen)
                    .expand(rows, seqLen).contiguous();
            Tensor allowed = ForwardMasks.allowed(null, past, seqLen, on(torch.ScalarType.Long));
            Rope.Angles angles = blocks.rope.angles(positions, dtype);
            Map<HookSite, Tensor> captures = new LinkedHashMap<>();
            PlanExecutor hooks = new PlanExecutor(plan, rows, seqLen, dtype, captures);
            DecoderBlocks.KeyValues kv = (l, k, v) -> {
                long kvh = cfg.nKvHeads(), dh = cfg.headDim();
                Tensor pk = prefix.k[l].narrow(2, 0, past).expand(rows, kvh, past, dh);
                Tensor pv = prefix.v[l].narrow(2, 0, past).expand(rows, kvh, past, dh);
                return new Tensor[] {torch.cat(new org.bytedeco.pytorch.TensorVector(pk, k), 2),
                        torch.cat(new org.bytedeco.pytorch.TensorVector(pv, v), 2)};
            };
            Tensor x = here(residIn).to(dtype);
            for (int l = startLayer; l < cfg.nLayers(); l++) {
                x = blocks.block(l, x, angles, allowed, kv, hooks);
            }
            return new RunResult(blocks.lmHead(x, plan, hooks, logitsMode), captures);
        } finally {
            busy.set(false);
        }
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

    private HookPlan.Shape hookShape() {
        return new HookPlan.Shape(cfg.nLayers(), cfg.nHeads(), cfg.headDim(), cfg.dModel());
    }
}
