package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.util.Torch;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The body of {@link LlamaModel}'s forward: input checks, masks and rotary positions, the decoder layers from a start
 * layer on, the KV cache update and the logits. It holds the model's weights and blocks, not its thread confinement
 * (the model checks that before calling in).
 */
final class ForwardPass {
    final ModelConfig cfg;
    final torch.ScalarType dtype;
    final Tensor embed;
    final DecoderBlocks blocks;
    final Device device;

    ForwardPass(ModelConfig cfg, torch.ScalarType dtype, Tensor embed, DecoderBlocks blocks, Device device) {
        this.cfg = cfg;
        this.dtype = dtype;
        this.embed = embed;
        this.blocks = blocks;
        this.device = device;
    }

    /** Options of {@code type} on the model's device. */
    org.bytedeco.pytorch.TensorOptions on(torch.ScalarType type) {
        return Torch.options(type).device(new org.bytedeco.pytorch.DeviceOptional(device.torch()));
    }

    /** {@code t} on the model's device (no copy when it is there already). */
    Tensor here(Tensor t) {
        return Device.of(t).equals(device) ? t : t.to(device.torch(), Torch.dtype(t));
    }

    HookPlan.Shape hookShape() {
        return new HookPlan.Shape(cfg.nLayers(), cfg.nHeads(), cfg.headDim(), cfg.dModel());
    }

    /**
     * Runs layers {@code [startLayer, nLayers)} on the embeddings of {@code tokens} (when {@code residIn} is null) or
     * on {@code residIn}, reading and appending to {@code cache} when there is one; logits where {@code buffer} says.
     */
    RunResult run(Tensor tokens, Tensor residIn, int startLayer, Tensor attentionMask, HookPlan plan, KvCache cache,
            LogitsMode logitsMode, LogitsBuffer buffer) {
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
        Tensor logits = blocks.lmHead(x, plan, hooks, logitsMode, buffer);
        return new RunResult(logits, captures);
    }
}
