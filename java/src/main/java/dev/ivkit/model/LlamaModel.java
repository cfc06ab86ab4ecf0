package dev.ivkit.model;

import static dev.ivkit.model.WeightNames.*;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import dev.ivkit.hooks.Capture;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.util.Torch;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
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
    private final Layer[] layers;
    private final Tensor embed;
    private final Tensor finalNorm;
    private final Tensor lmHead;
    private final Rope rope;
    private final Device device;
    private final Map<String, String>[] modulePaths;
    private final double attnScale;
    private final boolean ownsWeights;
    private final AtomicBoolean busy = new AtomicBoolean();
    private LoraAdapter adapter;
    private boolean adapterEnabled = true;
    private boolean training;

    record Layer(Tensor attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor bq, Tensor bk, Tensor bv, Tensor wo,
            Tensor mlpNorm, Tensor gate, Tensor up, Tensor down) {}

    /**
     * Builds a model from weights named by {@link WeightNames}; converts them to {@code dtype} (null keeps the first
     * weight's dtype). Takes ownership of the map's tensors.
     */
    public LlamaModel(ModelConfig cfg, Map<String, Tensor> weights, torch.ScalarType dtype) {
        this(cfg, weights, dtype, null);
    }

    /**
     * As {@link #LlamaModel(ModelConfig, Map, torch.ScalarType)}, moving each weight to {@code device} (null: where
     * the weights are) in the same step as the dtype conversion, one tensor at a time.
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
        this.finalNorm = require(w, FINAL_NORM);
        this.lmHead = cfg.tiedEmbeddings() ? embed : require(w, LM_HEAD);
        this.layers = new Layer[cfg.nLayers()];
        for (int l = 0; l < cfg.nLayers(); l++) {
            boolean bias = cfg.attentionBias();
            layers[l] = new Layer(require(w, attnNorm(l)), require(w, q(l)), require(w, k(l)), require(w, v(l)),
                    bias ? require(w, qBias(l)) : null, bias ? require(w, kBias(l)) : null, bias ? require(w, vBias(l)) : null,
                    require(w, o(l)), require(w, mlpNorm(l)), require(w, gate(l)), require(w, up(l)), require(w, down(l)));
        }
        this.device = target;
        this.rope = new Rope(cfg, target);
        this.modulePaths = new Map[cfg.nLayers()];
        for (int l = 0; l < cfg.nLayers(); l++) {
            modulePaths[l] = new java.util.HashMap<>();
            for (String m : LoraConfig.MODULES) {
                modulePaths[l].put(m, LoraConfig.modulePath(l, m));
            }
        }
        this.attnScale = 1.0 / Math.sqrt(cfg.headDim());
        this.ownsWeights = true;
    }

    private LlamaModel(LlamaModel o) {
        this.cfg = o.cfg;
        this.dtype = o.dtype;
        this.weights = o.weights;
        this.embed = o.embed;
        this.finalNorm = o.finalNorm;
        this.lmHead = o.lmHead;
        this.layers = o.layers;
        this.device = o.device;
        this.rope = new Rope(cfg, o.device);
        this.modulePaths = o.modulePaths;
        this.attnScale = o.attnScale;
        this.ownsWeights = false;
    }

    /**
     * A second model over the same weight tensors, for another thread (a model is confined to one): data-parallel
     * training runs one replica per shard. It has no adapter; closing it frees only its own RoPE tables, and it must
     * not be used after this model is closed.
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

    public ModelConfig config() {
        return cfg;
    }

    public torch.ScalarType dtype() {
        return dtype;
    }

    /** Where the weights live; every tensor a forward creates is created there too. */
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

    /** The weights by canonical name (read-only view; the tensors are the model's own). */
    public Map<String, Tensor> weights() {
        return weights;
    }

    /** A KV cache for {@code batch} rows and up to {@code capacity} positions (≤ the context length). */
    public KvCache newCache(int batch, int capacity) {
        if (capacity <= 0 || capacity > cfg.maxSeqLen()) {
            throw new InvalidArgumentException("capacity", capacity + " is out of range [1, " + cfg.maxSeqLen() + "]");
        }
        if (batch <= 0) {
            throw new InvalidArgumentException("batch", "must be positive, got " + batch);
        }
        return new KvCache(cfg, batch, capacity, dtype, device);
    }

    /** Token embeddings [batch, pos, d_model] (blocks.0.hook_resid_pre) of ids [batch, pos]. */
    public Tensor embedTokens(Tensor tokens) {
        tokens = here(tokens);
        long b = tokens.size(0), t = tokens.size(1);
        return embed.index_select(0, tokens.reshape(-1)).reshape(b, t, cfg.dModel());
    }

    /** Full-sequence forward without padding: logits [batch, pos, vocab]. */
    public RunResult forward(Tensor tokens, HookPlan plan) {
        return forward(tokens, null, plan, null, LogitsMode.ALL);
    }

    /**
     * @param tokens        [batch, pos] int64 ids
     * @param attentionMask [batch, pos] (1 = real token, 0 = left padding) or null for no padding
     * @param plan          captures; validated against the model and the input first
     * @param cache         KV cache to read the earlier positions from and append these to, or null
     * @param logitsMode    which positions get logits
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
     */
    public RunResult forwardFrom(int startLayer, Tensor residIn, Tensor attentionMask, HookPlan plan, LogitsMode logitsMode) {
        if (startLayer < 0 || startLayer >= cfg.nLayers()) {
            throw new InvalidArgumentException("startLayer", startLayer + " is out of range [0, " + cfg.nLayers() + ")");
        }
        if (residIn.dim() != 3 || residIn.size(2) != cfg.dModel()) {
            throw new InvalidArgumentException("residIn", "expected [batch, pos, " + cfg.dModel() + "], got " + Torch.shape(residIn));
        }
        plan = plan == null ? HookPlan.empty() : plan;
        requireLayersFrom(plan, startLayer);
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
            tokens = here(tokens);
            batch = (int) tokens.size(0);
            seqLen = (int) tokens.size(1);
            if (seqLen == 0) {
                throw new InvalidArgumentException("tokens", "empty sequence");
            }
            long minId = tokens.min().item_long(), maxId = tokens.max().item_long();
            if (minId < 0 || maxId >= cfg.vocabSize()) {
                throw new InvalidArgumentException("tokens", "token id " + (minId < 0 ? minId : maxId) + " is out of range [0, " + cfg.vocabSize() + ")");
            }
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
        plan.validate(cfg, batch, seqLen, attentionMask == null ? null : leftPadding(mask, batch, seqLen));

        // rotary positions: count of real tokens before each position (left padding shifts them), clamped at 0
        Tensor realBefore = mask.to(torch.ScalarType.Long).cumsum(1).sub(new Scalar(1));
        if (cache != null) {
            realBefore = realBefore.add(cache.realCount.unsqueeze(1));
        }
        Tensor positions = realBefore.clamp_min(new Scalar(0));  // [batch, pos]

        // attention mask over keys [batch, 1, pos, total]: causal, key is real, or the diagonal (keeps padded
        // queries finite; their outputs are never read). Without padding or cache: plain causal (null), which lets
        // the fused attention kernel skip the masked half.
        Tensor keyMask = cache == null ? mask : writeCacheMask(cache, mask, past, seqLen);
        Tensor allowed = null;
        if (attentionMask != null || cache != null) {
            Tensor qIdx = torch.arange(new Scalar(past), new Scalar(total), on(torch.ScalarType.Long)).reshape(seqLen, 1);
            Tensor kIdx = torch.arange(new Scalar(0), new Scalar(total), on(torch.ScalarType.Long)).reshape(1, total);
            Tensor causal = kIdx.le(qIdx);                          // [pos, total]
            Tensor diag = kIdx.eq(qIdx);
            allowed = causal.logical_and(keyMask.unsqueeze(1)).logical_or(diag).unsqueeze(1);  // [batch, 1, pos, total]
        }
        Rope.Angles angles = rope.angles(positions, dtype);

        Map<HookSite, Tensor> captures = new LinkedHashMap<>();
        PlanExecutor hooks = new PlanExecutor(plan, batch, seqLen, dtype, captures);
        Tensor x;
        if (residIn == null) {
            x = embed.index_select(0, tokens.reshape(-1)).reshape(batch, seqLen, cfg.dModel());  // [batch, pos, d_model]
            hooks.capture(HookSite.embed(), x);
        } else {
            x = here(residIn).to(dtype);
        }
        KeyValues kv = cache == null ? (l, k, v) -> new Tensor[] {k, v} : (l, k, v) -> {
            cache.k[l].narrow(2, past, seqLen).copy_(k);
            cache.v[l].narrow(2, past, seqLen).copy_(v);
            return new Tensor[] {cache.k[l].narrow(2, 0, total), cache.v[l].narrow(2, 0, total)};
        };
        for (int l = startLayer; l < cfg.nLayers(); l++) {
            x = block(l, x, angles, allowed, kv, hooks);
        }
        if (cache != null) {
            cache.realCount.add_(mask.to(torch.ScalarType.Long).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
            cache.advance(seqLen);
        }
        Tensor logits = lmHead(x, plan, hooks, logitsMode);
        return new RunResult(logits, captures);
    }

    /** Keys and values a layer attends over, given this call's new ones [batch, kv_head, pos, d_head]. */
    private interface KeyValues {
        Tensor[] apply(int layer, Tensor k, Tensor v);
    }

    /** One decoder block: attention (with head patches and hooks) and SwiGLU MLP. x [batch, pos, d_model]. */
    private Tensor block(int l, Tensor x, Rope.Angles angles, Tensor allowed, KeyValues kv, PlanExecutor hooks) {
        Layer ly = layers[l];
        long batch = x.size(0), seqLen = x.size(1);
        hooks.capture(HookSite.residPre(l), x);
        Tensor h = rmsNorm(x, ly.attnNorm);
        Tensor q = proj(l, "q_proj", h, ly.wq, ly.bq).reshape(batch, seqLen, cfg.nHeads(), cfg.headDim());
        Tensor k = proj(l, "k_proj", h, ly.wk, ly.bk).reshape(batch, seqLen, cfg.nKvHeads(), cfg.headDim());
        Tensor v = proj(l, "v_proj", h, ly.wv, ly.bv).reshape(batch, seqLen, cfg.nKvHeads(), cfg.headDim());
        q = rope.apply(q, angles).transpose(1, 2);          // [batch, head, pos, d_head]
        k = rope.apply(k, angles).transpose(1, 2);          // [batch, kv_head, pos, d_head]
        v = v.transpose(1, 2);
        Tensor[] all = kv.apply(l, k, v);
        Tensor z = attention(q, all[0], all[1], allowed).transpose(1, 2).contiguous();  // [batch, pos, head, d_head]
        z = hooks.patchHeads(l, z);
        hooks.capture(HookSite.attnZ(l), z);
        Tensor attnOut = proj(l, "o_proj", z.reshape(batch, seqLen, (long) cfg.nHeads() * cfg.headDim()), ly.wo, null);
        attnOut = hooks.site(HookSite.attnOut(l), attnOut);
        x = hooks.site(HookSite.residMid(l), x.add(attnOut));
        Tensor h2 = rmsNorm(x, ly.mlpNorm);
        Tensor mlp = proj(l, "down_proj", torch.silu(proj(l, "gate_proj", h2, ly.gate, null)).mul(proj(l, "up_proj", h2, ly.up, null)),
                ly.down, null);
        hooks.capture(HookSite.mlpOut(l), mlp);
        return hooks.site(HookSite.residPost(l), x.add(mlp));
    }

    /** Final norm and language-model head per the logits mode. */
    private Tensor lmHead(Tensor x, HookPlan plan, PlanExecutor hooks, LogitsMode logitsMode) {
        boolean wantLogitsCapture = !plan.capturesAt(HookSite.logits()).isEmpty();
        if (logitsMode == LogitsMode.NONE && plan.capturesAt(HookSite.lnFinal()).isEmpty() && !wantLogitsCapture) {
            return null;
        }
        Tensor normed = rmsNorm(x, finalNorm);
        hooks.capture(HookSite.lnFinal(), normed);
        if (logitsMode == LogitsMode.LAST && !wantLogitsCapture) {
            return torch.linear(normed.select(1, x.size(1) - 1), lmHead);       // [batch, vocab]
        }
        if (logitsMode == LogitsMode.NONE && !wantLogitsCapture) {
            return null;
        }
        Tensor all = torch.linear(normed, lmHead);                                 // [batch, pos, vocab]
        hooks.capture(HookSite.logits(), all);
        return switch (logitsMode) {
            case ALL -> all;
            case LAST -> all.select(1, x.size(1) - 1);
            default -> null;
        };
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
            plan.validate(cfg, rows, seqLen, null);
            requireLayersFrom(plan, startLayer);
            Tensor positions = torch.arange(new Scalar(past), new Scalar(total), on(torch.ScalarType.Long)).reshape(1, seqLen)
                    .expand(rows, seqLen).contiguous();
            Tensor qIdx = torch.arange(new Scalar(past), new Scalar(total), on(torch.ScalarType.Long)).reshape(seqLen, 1);
            Tensor kIdx = torch.arange(new Scalar(0), new Scalar(total), on(torch.ScalarType.Long)).reshape(1, total);
            Tensor allowed = kIdx.le(qIdx).reshape(1, 1, seqLen, total);
            Rope.Angles angles = rope.angles(positions, dtype);
            Map<HookSite, Tensor> captures = new LinkedHashMap<>();
            PlanExecutor hooks = new PlanExecutor(plan, rows, seqLen, dtype, captures);
            KeyValues kv = (l, k, v) -> {
                long kvh = cfg.nKvHeads(), dh = cfg.headDim();
                Tensor pk = prefix.k[l].narrow(2, 0, past).expand(rows, kvh, past, dh);
                Tensor pv = prefix.v[l].narrow(2, 0, past).expand(rows, kvh, past, dh);
                return new Tensor[] {torch.cat(new org.bytedeco.pytorch.TensorVector(pk, k), 2),
                        torch.cat(new org.bytedeco.pytorch.TensorVector(pv, v), 2)};
            };
            Tensor x = here(residIn).to(dtype);
            for (int l = startLayer; l < cfg.nLayers(); l++) {
                x = block(l, x, angles, allowed, kv, hooks);
            }
            return new RunResult(lmHead(x, plan, hooks, logitsMode), captures);
        } finally {
            busy.set(false);
        }
    }

    private static void requireLayersFrom(HookPlan plan, int startLayer) {
        for (var c : plan.captures()) {
            if (c.site().layer() >= 0 && c.site().layer() < startLayer || c.site().kind() == HookSite.Kind.EMBED) {
                throw new InvalidArgumentException("layer", "capture at " + c.site() + " lies before startLayer " + startLayer + ": it would capture nothing");
            }
        }
        for (var p : plan.patches()) {
            if (p.layer() < startLayer) {
                throw new InvalidArgumentException("layer", "head patch at layer " + p.layer() + " lies before startLayer " + startLayer);
            }
        }
        for (var a : plan.residualAdds()) {
            if (a.site().layer() < startLayer) {
                throw new InvalidArgumentException("layer", "residual addition at " + a.site() + " lies before startLayer " + startLayer);
            }
        }
    }

    private static Tensor writeCacheMask(KvCache cache, Tensor mask, int past, int seqLen) {
        cache.mask.narrow(1, past, seqLen).copy_(mask);
        return cache.mask.narrow(1, 0, past + seqLen);
    }

    /**
     * softmax(q k^T * scale, masked) v with grouped-query heads, by libtorch's fused scaled-dot-product attention
     * (float32 accumulation). q [b,h,t,d], k/v [b,kv,s,d]; {@code allowed} [b or 1, 1, t, s] bool (true = attend),
     * or null for the plain causal mask (t == s).
     */
    private Tensor attention(Tensor q, Tensor k, Tensor v, Tensor allowed) {
        boolean gqa = cfg.groupSize() > 1;
        TensorOptional mask = allowed == null ? new TensorOptional() : new TensorOptional(allowed);
        return torch.scaled_dot_product_attention(q, k, v, mask, 0.0, allowed == null, new DoubleOptional(attnScale), gqa);
    }

    /** RMSNorm in float32: x * rsqrt(mean(x^2) + eps) * w, cast back to the model dtype. */
    private Tensor rmsNorm(Tensor x, Tensor w) {
        Tensor xf = x.to(torch.ScalarType.Float);
        Tensor ms = xf.mul(xf).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor normed = xf.mul(ms.add(new Scalar(cfg.normEps())).rsqrt());
        return normed.to(dtype).mul(w);
    }

    /** A projection of layer l: x W^T (+ b), plus the LoRA update when an enabled adapter targets this module. */
    private Tensor proj(int l, String module, Tensor x, Tensor w, Tensor b) {
        Tensor y = linear(x, w, b);
        if (adapter == null || !adapterEnabled) {
            return y;
        }
        Tensor[] ab = adapter.weights(modulePaths[l].get(module));
        if (ab == null) {
            return y;
        }
        LoraConfig lc = adapter.config();
        Tensor xin = x.to(torch.ScalarType.Float);
        if (training && lc.dropout() > 0) {
            xin = torch.dropout(xin, lc.dropout(), true);
        }
        Tensor delta = xin.matmul(ab[0].t()).matmul(ab[1].t()).mul(new Scalar(lc.scaling()));
        return y.add(delta.to(dtype));
    }

    // ---- LoRA ----------------------------------------------------------------------------------------------------

    /** Attaches a LoRA adapter (not owned: the caller closes it). It must fit this model's shapes. */
    public void attachAdapter(LoraAdapter a) {
        for (int l = 0; l < cfg.nLayers(); l++) {
            for (String m : a.config().targets()) {
                Tensor[] ab = a.weights(LoraConfig.modulePath(l, m));
                long[] io = LoraAdapter.inOut(cfg, m);
                if (ab == null || ab[0].size(1) != io[0] || ab[1].size(0) != io[1]) {
                    throw new InvalidArgumentException("adapter", "adapter does not fit this model at " + LoraConfig.modulePath(l, m));
                }
            }
        }
        a.moveTo(device);
        this.adapter = a;
        this.adapterEnabled = true;
    }

    /** Removes the adapter (without merging); returns it. */
    public LoraAdapter detachAdapter() {
        LoraAdapter a = adapter;
        adapter = null;
        return a;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    /** Runs with or without the attached adapter's update (the reference pass of IV-guided training disables it). */
    public void setAdapterEnabled(boolean enabled) {
        this.adapterEnabled = enabled;
    }

    public boolean adapterEnabled() {
        return adapterEnabled;
    }

    /** Training mode: LoRA dropout active. */
    public void setTraining(boolean training) {
        this.training = training;
    }

    public boolean training() {
        return training;
    }

    /**
     * Adds the attached adapter into the weights ({@code W += (alpha/r) B A}) and detaches it: the continual protocol
     * merges each finished task's adapter before a fresh one is created.
     */
    public void mergeAdapter() {
        requireAdapter();
        applyDelta(adapter, 1.0);
        adapter = null;
    }

    /** Subtracts a previously merged adapter from the weights (up to float rounding). */
    public void unmergeAdapter(LoraAdapter a) {
        applyDelta(a, -1.0);
    }

    private void requireAdapter() {
        if (adapter == null) {
            throw new InvalidArgumentException("adapter", "no adapter attached");
        }
    }

    private void applyDelta(LoraAdapter a, double sign) {
        try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            for (int l = 0; l < cfg.nLayers(); l++) {
                for (String m : a.config().targets()) {
                    Tensor[] ab = a.weights(LoraConfig.modulePath(l, m));
                    Tensor w = weights.get(LoraConfig.modulePath(l, m) + ".weight");
                    Tensor delta = ab[1].detach().matmul(ab[0].detach()).mul(new Scalar(sign * a.config().scaling()));
                    w.add_(delta.to(dtype));
                }
            }
        }
    }

    private static Tensor linear(Tensor x, Tensor w, Tensor b) {
        return b == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(b));
    }

    /** Left-padding count per row from a [batch, pos] bool mask; anything but zeros-then-ones is an error. */
    private static long[] leftPadding(Tensor mask, int batch, int seqLen) {
        long[] m = Torch.toLongArray(mask);
        long[] pad = new long[batch];
        for (int b = 0; b < batch; b++) {
            int p = 0;
            while (p < seqLen && m[b * seqLen + p] == 0) {
                p++;
            }
            if (p == seqLen) {
                throw new InvalidArgumentException("attentionMask", "row " + b + " has no real token");
            }
            for (int i = p; i < seqLen; i++) {
                if (m[b * seqLen + i] == 0) {
                    throw new InvalidArgumentException("attentionMask", "row " + b + " has padding after a real token at "
                            + i + " (only left padding is supported)");
                }
            }
            pad[b] = p;
        }
        return pad;
    }

    @Override
    public void close() {
        if (ownsWeights) {
            for (Tensor t : weights.values()) {
                t.close();
            }
        }
        rope.close();
    }
}
