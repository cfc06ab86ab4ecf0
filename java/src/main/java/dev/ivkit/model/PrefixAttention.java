package dev.ivkit.model;

import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Attention of suffix rows that all continue one cached batch-1 prefix (the exact scan's patched copies of one
 * suffix). With several rows the prefix's keys and values are read once for all of them instead of being copied
 * per row (and per query head by the grouped-query fallback): every row's queries of one key/value head form the
 * rows of one matrix product with the prefix keys, and the suffix keys, which differ per row, go through a small
 * batched product with a causal mask; one softmax over both parts. Float32 arithmetic, the same sums as the fused
 * attention over the concatenated keys up to rounding. One row takes the fused attention over prefix and suffix.
 */
final class PrefixAttention implements DecoderBlocks.KeyValues {
    private final KvCache prefix;
    private final int rows;
    private final int past;
    private final int kvHeads;
    private final int group;
    private final int headDim;
    private final double scale;
    private Tensor later;   // [group * pos, pos] bool: the suffix key lies after the query (masked)

    PrefixAttention(ModelConfig cfg, KvCache prefix, int rows) {
        this.prefix = prefix;
        this.rows = rows;
        this.past = prefix.length();
        this.kvHeads = cfg.nKvHeads();
        this.group = cfg.groupSize();
        this.headDim = cfg.headDim();
        this.scale = 1.0 / Math.sqrt(cfg.headDim());
    }

    /** The prefix's keys and values broadcast over the rows, then this call's: [rows, kv_head, past + pos, d_head]. */
    @Override
    public Tensor[] apply(int l, Tensor k, Tensor v) {
        Tensor pk = prefix.k[l].narrow(2, 0, past).expand(rows, kvHeads, past, headDim);
        Tensor pv = prefix.v[l].narrow(2, 0, past).expand(rows, kvHeads, past, headDim);
        return new Tensor[] {torch.cat(new TensorVector(pk, k), 2), torch.cat(new TensorVector(pv, v), 2)};
    }

    /** q [rows, head, pos, d_head] over the prefix and each row's own causal suffix k, v [rows, kv_head, pos, d_head]. */
    @Override
    public Tensor attend(DecoderBlocks blocks, int l, Tensor q, Tensor k, Tensor v, Tensor allowed) {
        if (rows == 1) {
            return DecoderBlocks.KeyValues.super.attend(blocks, l, q, k, v, allowed);
        }
        long n = q.size(2), gn = (long) group * n, m = rows * gn;
        // query head h = kv * group + j (as the grouped-query attention pairs them): [rows, kv, group * pos, d_head]
        Tensor qf = q.to(torch.ScalarType.Float).mul(new Scalar(scale)).reshape(rows, kvHeads, gn, headDim);
        Tensor pk = prefix.k[l].select(0, 0).narrow(1, 0, past).to(torch.ScalarType.Float);     // [kv, past, d_head]
        Tensor pv = prefix.v[l].select(0, 0).narrow(1, 0, past).to(torch.ScalarType.Float);
        Tensor fromPrefix = torch.matmul(qf.transpose(0, 1).reshape(kvHeads, m, headDim), pk.transpose(1, 2))
                .reshape(kvHeads, rows, gn, past).transpose(0, 1);                                // [rows, kv, gn, past]
        Tensor own = torch.matmul(qf, k.to(torch.ScalarType.Float).transpose(2, 3))
                .masked_fill(later(n, q), new Scalar(Double.NEGATIVE_INFINITY));                  // [rows, kv, gn, pos]
        Tensor p = torch.cat(new TensorVector(fromPrefix, own), 3).softmax(3);
        Tensor out = torch.matmul(p.narrow(3, 0, past).transpose(0, 1).reshape(kvHeads, m, past), pv)
                .reshape(kvHeads, rows, gn, headDim).transpose(0, 1)
                .add(torch.matmul(p.narrow(3, past, n), v.to(torch.ScalarType.Float)));         // [rows, kv, gn, d_head]
        return out.reshape(rows, (long) kvHeads * group, n, headDim).to(Torch.dtype(q));
    }

    /** Row j * pos + i is query i: it may see suffix keys 0..i. Built once per forward, on q's device. */
    private Tensor later(long n, Tensor q) {
        if (later == null) {
            long gn = group * n;
            Tensor query = torch.arange(new Scalar(0), new Scalar(gn)).remainder(new Scalar(n)).reshape(gn, 1);
            Tensor key = torch.arange(new Scalar(0), new Scalar(n)).reshape(1, n);
            later = Torch.onDevice(key.gt(query), q);
        }
        return later;
    }
}
