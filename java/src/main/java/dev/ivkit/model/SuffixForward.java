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
 * {@link LlamaModel#forwardSuffix}'s body: layers [start, end) for the positions that follow a cached batch-1 prefix,
 * shared by every row ({@link PrefixAttention}), without changing the cache.
 */
final class SuffixForward {
    private SuffixForward() {}

    /**
     * Checks the arguments and runs layers [startLayer, endLayer) of the suffix on {@code f}'s weights (the caller
     * holds the model's thread). Short of the last layer there are no logits and the output is captured as
     * blocks.endLayer.hook_resid_pre; at the last layer the logits go where {@code buffer} says.
     */
    static RunResult run(ForwardPass f, int startLayer, int endLayer, Tensor residIn, KvCache prefix, HookPlan plan,
            LogitsMode logitsMode, LogitsBuffer buffer) {
        ModelConfig cfg = f.cfg;
        DecoderBlocks blocks = f.blocks;
        torch.ScalarType dtype = f.dtype;
        if (startLayer < 0 || startLayer >= cfg.nLayers()) {
            throw new InvalidArgumentException("startLayer", startLayer + " is out of range [0, " + cfg.nLayers() + ")");
        }
        if (endLayer <= startLayer || endLayer > cfg.nLayers()) {
            throw new InvalidArgumentException("endLayer", endLayer + " is out of range [" + (startLayer + 1) + ", " + cfg.nLayers() + "]");
        }
        if (endLayer < cfg.nLayers() && logitsMode != LogitsMode.NONE) {
            throw new InvalidArgumentException("logitsMode", logitsMode + " needs the last layer; a forward ending before layer "
                    + cfg.nLayers() + " takes NONE");
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
        ForwardMasks.requireLayersBefore(plan, endLayer, cfg.nLayers());
        Tensor positions = torch.arange(new Scalar(past), new Scalar(total), f.on(torch.ScalarType.Long)).reshape(1, seqLen)
                .expand(rows, seqLen).contiguous();
        Tensor allowed = ForwardMasks.allowed(null, past, seqLen, f.on(torch.ScalarType.Long));
        Rope.Angles angles = blocks.rope.angles(positions, dtype);
        Map<HookSite, Tensor> captures = new LinkedHashMap<>();
        PlanExecutor hooks = new PlanExecutor(plan, rows, seqLen, dtype, captures);
        PrefixAttention kv = new PrefixAttention(cfg, prefix, rows);
        Tensor x = f.here(residIn).to(dtype);
        for (int l = startLayer; l < endLayer; l++) {
            x = blocks.block(l, x, angles, allowed, kv, hooks);
        }
        if (endLayer < cfg.nLayers()) {
            hooks.capture(HookSite.residPre(endLayer), x);
            return new RunResult(null, captures);
        }
        return new RunResult(blocks.lmHead(x, plan, hooks, logitsMode, buffer), captures);
    }
}
