package dev.ivkit.model;

import dev.ivkit.hooks.Capture;
import dev.ivkit.hooks.HeadPatch;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.kernels.Kernels;
import dev.ivkit.PatchMode;
import dev.ivkit.util.Torch;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Executes a validated {@link HookPlan} inside one forward. Without autograd (no grad mode, or the activation does
 * not require grad) interventions and hook_z captures run on ivkit's native kernels, in place; with autograd they
 * run as out-of-place libtorch index ops, so gradients stay exact (a REPLACE patch cuts the gradient of the replaced
 * head). Both paths are tested to give the same values.
 */
final class PlanExecutor {
    private final HookPlan plan;
    private final int batch;
    private final int seqLen;
    private final torch.ScalarType dtype;
    private final Map<HookSite, Tensor> out;
    private final Map<Object, Tensor> positionTensors = new java.util.IdentityHashMap<>();

    PlanExecutor(HookPlan plan, int batch, int seqLen, torch.ScalarType dtype, Map<HookSite, Tensor> out) {
        this.plan = plan;
        this.batch = batch;
        this.seqLen = seqLen;
        this.dtype = dtype;
        this.out = out;
    }

    private static boolean tracked(Tensor t) {
        return GradMode.is_enabled() && t.requires_grad();
    }

    /** Applies the head patches of {@code layer} to z [batch, pos, head, d_head] (contiguous); returns the result. */
    Tensor patchHeads(int layer, Tensor z) {
        List<HeadPatch> ps = plan.patchesAt(layer);
        if (ps.isEmpty()) {
            return z;
        }
        int total = 0;
        for (HeadPatch p : ps) {
            total += p.rows() == null ? batch : p.rows().length;
        }
        for (PatchMode mode : PatchMode.values()) {
            long[] r = new long[total], pos = new long[total], h = new long[total];
            TensorVector values = new TensorVector();
            int n = 0;
            for (HeadPatch p : ps) {
                if (p.mode() != mode) {
                    continue;
                }
                int[] rows = HookPlan.selectedRows(p.rows(), batch, "headPatch");
                long[] at = p.positions().resolve(rows.length, seqLen, "positions");
                Tensor v = p.value().to(z.device(), dtype);
                for (int i = 0; i < rows.length; i++) {
                    r[n] = rows[i];
                    pos[n] = at[i];
                    h[n] = p.head();
                    values.push_back(v.dim() == 1 ? v : v.select(0, i));
                    n++;
                }
            }
            if (n == 0) {
                continue;
            }
            Tensor rowsT = Torch.onDevice(Torch.fromLongs(java.util.Arrays.copyOf(r, n)), z);
            Tensor posT = Torch.onDevice(Torch.fromLongs(java.util.Arrays.copyOf(pos, n)), z);
            Tensor headsT = Torch.onDevice(Torch.fromLongs(java.util.Arrays.copyOf(h, n)), z);
            Tensor vals = torch.stack(values, 0);                                   // [n, d_head]
            if (!tracked(z) && !vals.requires_grad()) {
                Kernels.patchHeadsInPlace(z, rowsT, posT, headsT, vals, mode);
            } else {
                long hh = z.size(2), dh = z.size(3);
                Tensor flat = rowsT.mul(new Scalar(seqLen)).add(posT).mul(new Scalar(hh)).add(headsT);  // [n]
                Tensor zf = z.reshape(-1, dh);
                zf = mode == PatchMode.REPLACE ? zf.index_copy(0, flat, vals) : zf.index_add(0, flat, vals);
                z = zf.reshape(batch, seqLen, hh, dh);
            }
        }
        return z;
    }

    /** Applies the residual additions at {@code site} to x [batch, pos, d_model]; returns the result. */
    Tensor addResidual(HookSite site, Tensor x) {
        for (ResidualAdd a : plan.addsAt(site)) {
            int[] rows = HookPlan.selectedRows(a.rows(), batch, "residualAdd");
            long[] at = a.positions().resolve(rows.length, seqLen, "positions");
            long[] flat = new long[rows.length];
            for (int i = 0; i < rows.length; i++) {
                flat[i] = (long) rows[i] * seqLen + at[i];
            }
            Tensor rowsT = Torch.onDevice(Torch.fromLongs(flat), x);
            Tensor v = a.vector().to(x.device(), dtype).contiguous();
            if (!tracked(x) && !v.requires_grad()) {
                Kernels.addRowsInPlace(x, rowsT, v, null, a.scale());
            } else {
                long d = x.size(2);
                Tensor vv = (v.dim() == 1 ? v.unsqueeze(0).expand(rows.length, d) : v).mul(new Scalar(a.scale()));
                x = x.reshape(-1, d).index_add(0, rowsT, vv).reshape(batch, seqLen, d);
            }
        }
        return x;
    }

    /** Interventions at a residual-stream site, then its captures. */
    Tensor site(HookSite site, Tensor act) {
        if (site.kind() == HookSite.Kind.RESID_POST || site.kind() == HookSite.Kind.RESID_MID
                || site.kind() == HookSite.Kind.ATTN_OUT) {
            act = addResidual(site, act);
        }
        capture(site, act);
        return act;
    }

    /** Records the captures at a site: one position per row → [batch, ...], all → the tensor itself, or a running sum. */
    void capture(HookSite site, Tensor act) {
        for (Capture c : plan.capturesAt(site)) {
            if (c.positions().mode() == Positions.Mode.ALL) {
                out.put(site, act);
                continue;
            }
            Tensor posT = positionsTensor(c.positions(), act);
            boolean native4d = site.kind() == HookSite.Kind.ATTN_Z && !tracked(act) && act.is_contiguous();
            if (c.accumulator() != null) {
                if (native4d) {
                    Tensor acc = accumulatorSum(c, act);
                    Kernels.gatherHeadsAccumulate(act, posT, acc);
                } else {
                    accumulateRows(c, select(act, posT));
                }
            } else if (native4d) {
                out.put(site, Kernels.gatherHeads(act, posT));
            } else {
                out.put(site, select(act, posT));
            }
        }
    }

    /**
     * One int64 position per row on act's device, built once per forward and shared by every capture with the same
     * positions (a plan capturing every layer at the last token builds one tensor, not one per layer). The plan was
     * validated before the forward, so the positions are in range.
     */
    private Tensor positionsTensor(Positions p, Tensor act) {
        Object key = p.mode() == Positions.Mode.LAST ? Positions.Mode.LAST : p;
        Tensor t = positionTensors.get(key);
        if (t == null || t.is_cuda() != act.is_cuda()) {
            t = Torch.onDevice(Torch.fromLongs(p.resolve(batch, seqLen, "positions")), act);
            positionTensors.put(key, t);
        }
        return t;
    }

    private Tensor select(Tensor act, Tensor posT) {
        long[] sizes = Torch.sizes(act);
        long[] flat = new long[sizes.length - 1];
        flat[0] = (long) batch * seqLen;
        System.arraycopy(sizes, 2, flat, 1, sizes.length - 2);
        Tensor rows = Torch.onDevice(torch.arange(new Scalar(0), new Scalar(batch)), act).mul(new Scalar(seqLen)).add(posT);
        return Torch.rows(act.reshape(flat), rows);
    }

    private Tensor accumulatorSum(Capture c, Tensor act) {
        return c.accumulator().sumFor(new long[] {act.size(2), act.size(3)}, act, batch);
    }

    private void accumulateRows(Capture c, Tensor rows) {
        c.accumulator().addRows(rows.detach());
    }
}
