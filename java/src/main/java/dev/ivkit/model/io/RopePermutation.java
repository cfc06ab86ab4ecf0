package dev.ivkit.model.io;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Row permutation of q/k projections between the two RoPE pairings of {@link RopeStyle}.
 *
 * <p>Meta's reference code and llama2.c rotate pairs of adjacent dimensions (0,1), (2,3), ... of each head
 * ({@link RopeStyle#INTERLEAVED}); Hugging Face rotates (i, i + d_head/2) ({@link RopeStyle#HALF}) and compensates by
 * permuting the output rows of q_proj and k_proj when converting, as {@code convert_llama_weights_to_hf.py} does:
 * {@code W.view(n_h, d_head/2, 2, d_model).transpose(1, 2).reshape(n_h*d_head, d_model)}. Within each head, row
 * {@code j*(d_head/2) + i} of the result is row {@code 2i + j} of the input. Both directions give the same attention
 * scores. Biases (1-D) are permuted the same way.
 */
public final class RopePermutation {
    private RopePermutation() {}

    /**
     * Interleaved (llama2.c / Meta) rows to rotate-half (Hugging Face) rows.
     *
     * @param w       q or k projection weight [nHeads * headDim, in] (or bias [nHeads * headDim])
     * @param nHeads  heads of the projection (query or key-value heads)
     * @param headDim width of one head
     * @return the permuted rows (a new tensor)
     */
    public static Tensor interleavedToHalf(Tensor w, int nHeads, int headDim) {
        return permute(w, nHeads, headDim, true);
    }

    /**
     * Rotate-half (Hugging Face) rows to interleaved (llama2.c / Meta) rows; inverse of {@link #interleavedToHalf}.
     *
     * @param w       q or k projection weight [nHeads * headDim, in] (or bias [nHeads * headDim])
     * @param nHeads  heads of the projection (query or key-value heads)
     * @param headDim width of one head
     * @return the permuted rows (a new tensor)
     */
    public static Tensor halfToInterleaved(Tensor w, int nHeads, int headDim) {
        return permute(w, nHeads, headDim, false);
    }

    private static Tensor permute(Tensor w, int nHeads, int headDim, boolean toHalf) {
        if (nHeads <= 0 || headDim <= 0 || headDim % 2 != 0) {
            throw new InvalidArgumentException("headDim", "need nHeads > 0 and an even headDim > 0, got nHeads=" + nHeads + " headDim=" + headDim);
        }
        long[] sizes = w.sizes().vec().get();
        if (sizes.length < 1 || sizes.length > 2 || sizes[0] != (long) nHeads * headDim) {
            throw new InvalidArgumentException("w", "expected shape [" + ((long) nHeads * headDim) + "] or ["
                    + ((long) nHeads * headDim) + ", d_model], got " + java.util.Arrays.toString(sizes));
        }
        long rest = sizes.length == 2 ? sizes[1] : 1;
        Tensor out;
        try (PointerScope s = new PointerScope()) {
            Tensor v = toHalf ? w.reshape(nHeads, headDim / 2, 2, rest) : w.reshape(nHeads, 2, headDim / 2, rest);
            out = v.transpose(1, 2).contiguous().reshape(sizes);
            out.retainReference();
        }
        return TensorOpts.handOver(out);
    }

    /**
     * Returns a checkpoint whose q/k projections (and biases) use {@code target}'s pairing, with the config's
     * {@code ropeStyle} set to it. The same checkpoint is returned when it already has that style. The new weight map
     * holds new q/k tensors and shares every other tensor with {@code ckpt}.
     *
     * @param ckpt   the checkpoint
     * @param target the pairing wanted
     * @return a checkpoint with {@code target}'s pairing
     */
    public static Checkpoint convert(Checkpoint ckpt, RopeStyle target) {
        ModelConfig c = ckpt.config();
        if (c.ropeStyle() == target) {
            return ckpt;
        }
        boolean toHalf = target == RopeStyle.HALF;
        Map<String, Tensor> w = new LinkedHashMap<>(ckpt.weights());
        for (int l = 0; l < c.nLayers(); l++) {
            replace(w, WeightNames.q(l), c.nHeads(), c.headDim(), toHalf);
            replace(w, WeightNames.k(l), c.nKvHeads(), c.headDim(), toHalf);
            replace(w, WeightNames.qBias(l), c.nHeads(), c.headDim(), toHalf);
            replace(w, WeightNames.kBias(l), c.nKvHeads(), c.headDim(), toHalf);
        }
        return new Checkpoint(c.withRopeStyle(target), w, ckpt.source());
    }

    private static void replace(Map<String, Tensor> w, String name, int heads, int headDim, boolean toHalf) {
        Tensor t = w.get(name);
        if (t != null) {
            w.put(name, permute(t, heads, headDim, toHalf));
        }
    }
}
