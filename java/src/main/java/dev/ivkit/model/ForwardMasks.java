package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Checks and masks of a forward's input: left padding, the KV cache's key mask, hooks before a start layer. */
final class ForwardMasks {
    private ForwardMasks() {}

    /**
     * Token ids in [0, vocab), checked where they are (host ids before their copy to the device: no device round trip;
     * an out-of-range id on CUDA would be a device-side assert). Meta tensors have no values to check.
     */
    static void requireIdsInRange(Tensor tokens, int vocab) {
        if (tokens.is_meta()) {
            return;
        }
        long minId = tokens.min().item_long(), maxId = tokens.max().item_long();
        if (minId < 0 || maxId >= vocab) {
            throw new InvalidArgumentException("tokens", "token id " + (minId < 0 ? minId : maxId) + " is out of range [0, " + vocab + ")");
        }
    }

    /** Left-padding count per row from a [batch, pos] bool mask; anything but zeros-then-ones is an error. */
    static long[] leftPadding(Tensor mask, int batch, int seqLen) {
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


    static Tensor writeCacheMask(KvCache cache, Tensor mask, int past, int seqLen) {
        cache.mask.narrow(1, past, seqLen).copy_(mask);
        return cache.mask.narrow(1, 0, past + seqLen);
    }


    static void requireLayersFrom(HookPlan plan, int startLayer) {
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

    /**
     * Hooks of a forward that stops before layer {@code endLayer} (of {@code nLayers}) must lie before it: the one
     * site after it that such a forward reaches is {@code blocks.endLayer.hook_resid_pre}, its output.
     */
    static void requireLayersBefore(HookPlan plan, int endLayer, int nLayers) {
        if (endLayer == nLayers) {
            return;
        }
        for (var c : plan.captures()) {
            HookSite s = c.site();
            boolean output = s.equals(HookSite.residPre(endLayer));
            if (!output && (s.layer() < 0 ? s.kind() != HookSite.Kind.EMBED : s.layer() >= endLayer)) {
                throw new InvalidArgumentException("layer", "capture at " + s + " lies after endLayer " + endLayer + ": it would capture nothing");
            }
        }
        for (var p : plan.patches()) {
            if (p.layer() >= endLayer) {
                throw new InvalidArgumentException("layer", "head patch at layer " + p.layer() + " lies after endLayer " + endLayer);
            }
        }
        for (var a : plan.residualAdds()) {
            if (a.site().layer() >= endLayer) {
                throw new InvalidArgumentException("layer", "residual addition at " + a.site() + " lies after endLayer " + endLayer);
            }
        }
    }

    /**
     * Which keys each query may attend to, [batch or 1, 1, pos, past + pos] bool: causal, and with a key mask (left
     * padding, cache) also the key is real, or the diagonal (keeps padded queries finite; their outputs are never
     * read). Forwards without padding or cache pass null to attention instead: plain causal, so the fused kernel
     * skips the masked half.
     *
     * @param keyMask [batch, past + pos] bool (true = real), or null for causal only
     * @param longs   int64 options on the model's device
     */
    static Tensor allowed(Tensor keyMask, int past, int seqLen, org.bytedeco.pytorch.TensorOptions longs) {
        int total = past + seqLen;
        Tensor qIdx = torch.arange(new Scalar(past), new Scalar(total), longs).reshape(seqLen, 1);
        Tensor kIdx = torch.arange(new Scalar(0), new Scalar(total), longs).reshape(1, total);
        Tensor causal = kIdx.le(qIdx);                                                            // [pos, total]
        if (keyMask == null) {
            return causal.reshape(1, 1, seqLen, total);
        }
        return causal.bitwise_and(keyMask.unsqueeze(1)).bitwise_or(kIdx.eq(qIdx)).unsqueeze(1);  // [batch, 1, pos, total]
    }
}
