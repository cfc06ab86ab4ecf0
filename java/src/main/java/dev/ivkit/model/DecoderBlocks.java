package dev.ivkit.model;

import dev.ivkit.util.Torch;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import java.util.Map;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The arithmetic of a {@link LlamaModel}: its decoder blocks (RMSNorm, q/k/v with RoPE, grouped-query attention with
 * head patches and hooks, o_proj, SwiGLU), the final norm and the language-model head, and the LoRA update of every
 * projection. The model validates inputs, builds masks and positions and runs these; a replica shares the layers and
 * has its own RoPE tables and LoRA slot.
 */
final class DecoderBlocks {
    record Layer(Tensor attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor bq, Tensor bk, Tensor bv, Tensor wo,
            Tensor mlpNorm, Tensor gate, Tensor up, Tensor down) {}

    private final ModelConfig cfg;
    private final torch.ScalarType dtype;
    private final Layer[] layers;
    private final Tensor finalNorm;
    private final Tensor lmHead;
    private final Device device;
    private final Map<String, String>[] modulePaths;
    private final double attnScale;
    final Rope rope;
    final LoraSlot lora = new LoraSlot();
    final LogitsWorkspace logitsWorkspace = new LogitsWorkspace(LogitsWorkspace.MAX_BYTES);
    final ReducedWeights reduced = new ReducedWeights();

    @SuppressWarnings("unchecked")
    DecoderBlocks(ModelConfig cfg, torch.ScalarType dtype, Layer[] layers, Tensor finalNorm, Tensor lmHead, Device device) {
        this.cfg = cfg;
        this.dtype = dtype;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.device = device;
        this.rope = new Rope(cfg, device);
        this.modulePaths = new Map[cfg.nLayers()];
        for (int l = 0; l < cfg.nLayers(); l++) {
            modulePaths[l] = new java.util.HashMap<>();
            for (String m : LoraConfig.MODULES) {
                modulePaths[l].put(m, LoraConfig.modulePath(l, m));
            }
        }
        this.attnScale = 1.0 / Math.sqrt(cfg.headDim());
    }

    /** The same layers with new RoPE tables, an empty LoRA slot, its own logits workspace and reduced-weight copies. */
    DecoderBlocks replica() {
        return new DecoderBlocks(cfg, dtype, layers, finalNorm, lmHead, device);
    }

    /** Keys and values a layer attends over, given this call's new ones [batch, kv_head, pos, d_head]. */
    interface KeyValues {
        Tensor[] apply(int layer, Tensor k, Tensor v);

        /** The attention output [batch, head, pos, d_head] of q; by default {@link DecoderBlocks#attention} over apply's keys. */
        default Tensor attend(DecoderBlocks blocks, int layer, Tensor q, Tensor k, Tensor v, Tensor allowed) {
            Tensor[] all = apply(layer, k, v);
            return blocks.attention(q, all[0], all[1], allowed);
        }
    }


    /** One decoder block: attention (with head patches and hooks) and SwiGLU MLP. x [batch, pos, d_model]. */
    Tensor block(int l, Tensor x, Rope.Angles angles, Tensor allowed, KeyValues kv, PlanExecutor hooks) {
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
        Tensor z = kv.attend(this, l, q, k, v, allowed).transpose(1, 2).contiguous();  // [batch, pos, head, d_head]
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


    /**
     * Final norm and language-model head per the logits mode, into the logits workspace when {@code buffer} asks for
     * it and the contract of {@link LogitsBuffer#WORKSPACE} allows (the plan does not capture the logits).
     */
    Tensor lmHead(Tensor x, HookPlan plan, PlanExecutor hooks, LogitsMode logitsMode, LogitsBuffer buffer) {
        boolean wantLogitsCapture = !plan.capturesAt(HookSite.logits()).isEmpty();
        if (logitsMode == LogitsMode.NONE && plan.capturesAt(HookSite.lnFinal()).isEmpty() && !wantLogitsCapture) {
            return null;
        }
        Tensor normed = rmsNorm(x, finalNorm);
        hooks.capture(HookSite.lnFinal(), normed);
        if (logitsMode == LogitsMode.LAST && !wantLogitsCapture) {
            return head(normed.select(1, x.size(1) - 1), buffer);                 // [batch, vocab]
        }
        if (logitsMode == LogitsMode.NONE && !wantLogitsCapture) {
            return null;
        }
        Tensor all = wantLogitsCapture ? torch.linear(normed, lmHead) : head(normed, buffer);  // [batch, pos, vocab]
        hooks.capture(HookSite.logits(), all);
        return switch (logitsMode) {
            case ALL -> all;
            case LAST -> all.select(1, x.size(1) - 1);
            default -> null;
        };
    }

    /** The lm_head GEMM on final-norm outputs [..., d_model], into a fresh tensor. */
    Tensor unembed(Tensor normed) {
        return head(normed, LogitsBuffer.FRESH);
    }

    /**
     * in [..., d_model] times the lm_head transposed: the same GEMM as {@code torch.linear} (bit-identical), written
     * into the workspace when asked and no gradient is needed (out= variants have no autograd), else a fresh tensor;
     * bfloat16 products inside a reduced-products scope ({@link ReducedWeights}).
     */
    private Tensor head(Tensor in, LogitsBuffer buffer) {
        if (ReducedWeights.applies(in, lmHead)) {
            return reduced.linear("lm_head", in, lmHead, null);   // a reduced-products scope (reference passes)
        }
        boolean needsGrad = GradMode.is_enabled() && (in.requires_grad() || lmHead.requires_grad());
        if (buffer == LogitsBuffer.WORKSPACE && !needsGrad && !in.is_meta()) {
            long d = in.size(-1), rows = in.numel() / d, vocab = lmHead.size(0);
            Tensor out = logitsWorkspace.view(rows, vocab, in);
            if (out != null) {
                torch.mm_out(out, in.reshape(rows, d), lmHead.t());
                long[] shape = in.sizes().vec().get();
                shape[shape.length - 1] = vocab;
                return out.view(shape);
            }
        }
        return torch.linear(in, lmHead);
    }


    /**
     * softmax(q k^T * scale, masked) v with grouped-query heads, by libtorch's fused scaled-dot-product attention
     * (float32 accumulation). q [b,h,t,d], k/v [b,kv,s,d]; {@code allowed} [b or 1, 1, t, s] bool (true = attend),
     * or null for the plain causal mask (t == s).
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, Tensor allowed) {
        boolean gqa = cfg.groupSize() > 1;
        if (q.is_meta()) {
            return metaAttention(q, k, v, allowed);
        }
        TensorOptional mask = allowed == null ? new TensorOptional() : new TensorOptional(allowed);
        return torch.scaled_dot_product_attention(q, k, v, mask, 0.0, allowed == null, new DoubleOptional(attnScale), gqa);
    }


    /**
     * The same attention spelled out with ops that have meta kernels (libtorch 2.10's C++ build has none for the fused
     * kernel's internals): only the meta device (device-hygiene tests, shapes only) takes this path.
     */
    private Tensor metaAttention(Tensor q, Tensor k, Tensor v, Tensor allowed) {
        long b = k.size(0), kv = k.size(1), s = k.size(2), d = k.size(3), g = cfg.groupSize();
        Tensor ke = k.unsqueeze(2).expand(b, kv, g, s, d).reshape(b, kv * g, s, d);
        Tensor ve = v.unsqueeze(2).expand(b, kv, g, s, d).reshape(b, kv * g, s, d);
        Tensor scores = q.matmul(ke.transpose(-2, -1)).mul(new Scalar(attnScale));
        if (allowed == null) {
            long t = q.size(2);
            allowed = torch.ones(new long[] {t, s}, Torch.options(torch.ScalarType.Bool)
                    .device(new org.bytedeco.pytorch.DeviceOptional(q.device()))).tril();
        }
        return scores.masked_fill(allowed.bitwise_not(), new Scalar(Double.NEGATIVE_INFINITY)).softmax(-1).matmul(ve);
    }

    /** RMSNorm in float32: x * rsqrt(mean(x^2) + eps) * w, cast back to the model dtype. */
    private Tensor rmsNorm(Tensor x, Tensor w) {
        Tensor xf = x.to(torch.ScalarType.Float);
        Tensor ms = xf.mul(xf).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor normed = xf.mul(ms.add(new Scalar(cfg.normEps())).rsqrt());
        return normed.to(dtype).mul(w);
    }


    /**
     * A projection of layer l: x W^T (+ b) (bfloat16 products inside a reduced-products scope, {@link ReducedWeights}),
     * plus the LoRA update when an enabled adapter targets this module.
     */
    private Tensor proj(int l, String module, Tensor x, Tensor w, Tensor b) {
        Tensor y = ReducedWeights.applies(x, w) ? reduced.linear(modulePaths[l].get(module), x, w, b) : linear(x, w, b);
        Tensor delta = lora.delta(modulePaths[l].get(module), x);
        return delta == null ? y : y.add(delta.to(dtype));
    }


    private static Tensor linear(Tensor x, Tensor w, Tensor b) {
        return b == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(b));
    }

    void close() {
        rope.close();
        logitsWorkspace.close();
        reduced.close();
    }
}
