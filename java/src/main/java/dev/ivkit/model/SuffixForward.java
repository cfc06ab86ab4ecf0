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
 * {@link LlamaModel#forwardSuffix}'s body: layers from a start layer on for the positions that follow a cached
 * batch-1 prefix, its keys and values broadcast over the rows, without changing the cache.
 */
final class SuffixForward {
    private SuffixForward() {}

    /** Checks the arguments and runs the suffix on {@code f}'s weights (the caller holds the model's thread). */
    static RunResult run(ForwardPass f, int startLayer, Tensor residIn, KvCache prefix, HookPlan plan, LogitsMode logitsMode,
            LogitsBuffer buffer) {
        ModelConfig cfg = f.cfg;
        DecoderBlocks blocks = f.blocks;
        torch.ScalarType dtype = f.dtype;
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
        plan.validate(f.hookShape(), rows, seqLen, null);
        ForwardMasks.requireLayersFrom(plan, startLayer);
        Tensor positions = torch.arange(new Scalar(past), new Scalar(total), f.on(torch.ScalarType.Long)).reshape(1, seqLen)
                .expand(rows, seqLen).contiguous();
        Tensor allowed = ForwardMasks.allowed(null, past, seqLen, f.on(torch.ScalarType.Long));
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
        Tensor x = f.here(residIn).to(dtype);
        for (int l = startLayer; l < cfg.nLayers(); l++) {
            x = blocks.block(l, x, angles, allowed, kv, hooks);
        }
        return new RunResult(blocks.lmHead(x, plan, hooks, logitsMode, buffer), captures);
    }
}
