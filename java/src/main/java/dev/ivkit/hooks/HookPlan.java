package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A declarative description of what one forward pass reads and changes: captures by {@link HookSite}, head patches
 * on {@code blocks.L.attn.hook_z}, and residual additions. Built once, validated against the model and the input
 * before the forward ({@link #validate}), executed inside the forward with no per-hook callbacks. Immutable.
 *
 * <p>Order at a site: interventions first, then captures (a capture sees what flows on). An intervention that would
 * match nothing (a padding position, a row outside the batch, an empty selection) is an error, never a no-op.
 */
public final class HookPlan {
    private static final HookPlan EMPTY = new HookPlan(List.of(), List.of(), List.of());
    private final List<Capture> captures;
    private final List<HeadPatch> patches;
    private final List<ResidualAdd> adds;

    private HookPlan(List<Capture> captures, List<HeadPatch> patches, List<ResidualAdd> adds) {
        this.captures = Collections.unmodifiableList(new ArrayList<>(captures));
        this.patches = Collections.unmodifiableList(new ArrayList<>(patches));
        this.adds = Collections.unmodifiableList(new ArrayList<>(adds));
    }

    /**
     * A plan that captures and changes nothing.
     *
     * @return the empty plan
     */
    public static HookPlan empty() {
        return EMPTY;
    }

    /**
     * A builder of a new plan.
     *
     * @return an empty builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The captures, in plan order.
     *
     * @return the captures (unmodifiable)
     */
    public List<Capture> captures() {
        return captures;
    }

    /**
     * The head patches, in plan order.
     *
     * @return the head patches (unmodifiable)
     */
    public List<HeadPatch> patches() {
        return patches;
    }

    /**
     * The residual additions, in plan order.
     *
     * @return the residual additions (unmodifiable)
     */
    public List<ResidualAdd> residualAdds() {
        return adds;
    }

    /**
     * Whether the plan neither captures nor changes anything.
     *
     * @return true for an empty plan
     */
    public boolean isEmpty() {
        return captures.isEmpty() && patches.isEmpty() && adds.isEmpty();
    }

    /**
     * Whether the plan changes the forward (head patches or residual additions).
     *
     * @return true when the plan has an intervention
     */
    public boolean hasInterventions() {
        return !patches.isEmpty() || !adds.isEmpty();
    }

    /**
     * Captures at one site, in plan order.
     *
     * @param site a hook site
     * @return the captures at {@code site} (one at most)
     */
    public List<Capture> capturesAt(HookSite site) {
        List<Capture> out = new ArrayList<>();
        for (Capture c : captures) {
            if (c.site().equals(site)) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Head patches of one layer.
     *
     * @param layer a layer index
     * @return the head patches of {@code layer}, in plan order
     */
    public List<HeadPatch> patchesAt(int layer) {
        List<HeadPatch> out = new ArrayList<>();
        for (HeadPatch p : patches) {
            if (p.layer() == layer) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Residual additions at one site.
     *
     * @param site a hook site
     * @return the residual additions at {@code site}, in plan order
     */
    public List<ResidualAdd> addsAt(HookSite site) {
        List<ResidualAdd> out = new ArrayList<>();
        for (ResidualAdd a : adds) {
            if (a.site().equals(site)) {
                out.add(a);
            }
        }
        return out;
    }

    /**
     * The sizes a plan is checked against (a model's config provides them).
     *
     * @param nLayers decoder layers
     * @param nHeads  query heads per layer
     * @param headDim width of one head
     * @param dModel  residual-stream width
     */
    public record Shape(int nLayers, int nHeads, int headDim, int dModel) {}

    /**
     * Checks the plan against the model and the input: layer, head, row and position ranges, vector lengths, finite
     * values, and that no intervention lands on padding.
     *
     * @param shape   the model's layer, head and width counts
     * @param batch   batch rows of the input
     * @param seqLen  sequence length of the input
     * @param padding number of left-padding tokens per batch row (null: none)
     * @throws InvalidArgumentException naming the first intervention or capture that does not fit
     */
    public void validate(Shape shape, int batch, int seqLen, long[] padding) {
        Shape cfg = shape;
        for (Capture c : captures) {
            checkLayer(cfg, c.site(), "capture at " + c.site());
            c.positions().resolve(batch, seqLen, "positions of capture " + c.site());
        }
        for (int i = 0; i < patches.size(); i++) {
            HeadPatch p = patches.get(i);
            String what = "headPatch[" + i + "]";
            checkLayer(cfg, HookSite.attnZ(p.layer()), what);
            if (p.head() < 0 || p.head() >= cfg.nHeads()) {
                throw new InvalidArgumentException("head", what + ": head " + p.head() + " is out of range [0, " + cfg.nHeads() + ")");
            }
            int[] rows = selectedRows(p.rows(), batch, what);
            long[] pos = p.positions().resolve(rows.length, seqLen, "positions of " + what);
            checkNotPadding(rows, pos, padding, what);
            checkVector(p.value(), rows.length, cfg.headDim(), "value", what);
        }
        for (int i = 0; i < adds.size(); i++) {
            ResidualAdd a = adds.get(i);
            String what = "residualAdd[" + i + "] at " + a.site();
            checkLayer(cfg, a.site(), what);
            int[] rows = selectedRows(a.rows(), batch, what);
            long[] pos = a.positions().resolve(rows.length, seqLen, "positions of " + what);
            checkNotPadding(rows, pos, padding, what);
            checkVector(a.vector(), rows.length, cfg.dModel(), "vector", what);
        }
    }

    private static void checkLayer(Shape cfg, HookSite s, String what) {
        if (s.layer() >= cfg.nLayers()) {
            throw new InvalidArgumentException("layer", what + ": layer " + s.layer() + " is out of range [0, " + cfg.nLayers() + ")");
        }
    }

    /**
     * The batch rows an intervention applies to (all when null), range-checked.
     *
     * @param rows  selected rows, or null for all
     * @param batch batch rows of the input
     * @param what  the intervention, for error messages
     * @return the selected rows, or every row index when {@code rows} is null
     * @throws InvalidArgumentException when a row is out of range or selected twice
     */
    public static int[] selectedRows(int[] rows, int batch, String what) {
        if (rows == null) {
            int[] all = new int[batch];
            for (int b = 0; b < batch; b++) {
                all[b] = b;
            }
            return all;
        }
        boolean[] seen = new boolean[batch];
        for (int r : rows) {
            if (r < 0 || r >= batch) {
                throw new InvalidArgumentException("rows", what + ": row " + r + " is out of range [0, " + batch + ")");
            }
            if (seen[r]) {
                throw new InvalidArgumentException("rows", what + ": row " + r + " is selected twice");
            }
            seen[r] = true;
        }
        return rows.clone();
    }

    private static void checkNotPadding(int[] rows, long[] pos, long[] padding, String what) {
        if (padding == null) {
            return;
        }
        for (int i = 0; i < rows.length; i++) {
            if (pos[i] < padding[rows[i]]) {
                throw new InvalidArgumentException("positions", what + ": position " + pos[i] + " of row " + rows[i]
                        + " is left padding (the row's first real token is at " + padding[rows[i]] + "); it would patch nothing real");
            }
        }
    }

    private static void checkVector(Tensor v, int nRows, int width, String field, String what) {
        long[] s = Torch.sizes(v);
        boolean ok = (s.length == 1 && s[0] == width) || (s.length == 2 && s[0] == nRows && s[1] == width);
        if (!ok) {
            throw new InvalidArgumentException(field, what + ": expected [" + width + "] or [" + nRows + ", " + width + "], got "
                    + Torch.shape(v));
        }
        torch.ScalarType dt = Torch.dtype(v);
        if (dt != torch.ScalarType.Float && dt != torch.ScalarType.BFloat16 && dt != torch.ScalarType.Half
                && dt != torch.ScalarType.Double) {
            throw new InvalidArgumentException(field, what + ": dtype " + dt + " is not a floating type");
        }
        if (!v.is_meta() && !torch.isfinite(v).all().item_bool()) {  // meta tensors have no values to check
            throw new InvalidArgumentException(field, what + ": contains NaN or Inf");
        }
    }

    /**
     * Collects captures and interventions; {@link #build()} makes the immutable plan. A site is captured at most once.
     */
    public static final class Builder {
        private final Map<HookSite, Capture> captures = new LinkedHashMap<>();
        private final List<HeadPatch> patches = new ArrayList<>();
        private final List<ResidualAdd> adds = new ArrayList<>();

        /**
         * Keeps the activation at {@code site} for the given positions (the forward's result returns it).
         *
         * @param site      where to read
         * @param positions which positions per row; {@link Positions#all()} keeps every position
         * @return this builder
         * @throws InvalidArgumentException when {@code site} is already captured
         */
        public Builder capture(HookSite site, Positions positions) {
            return put(new Capture(site, positions, null));
        }

        /**
         * Keeps the activation at {@code site} for every position.
         *
         * @param site where to read
         * @return this builder
         * @throws InvalidArgumentException when {@code site} is already captured
         */
        public Builder capture(HookSite site) {
            return capture(site, Positions.all());
        }

        /**
         * Sums the selected rows into {@code acc} instead of keeping them (one position per row).
         *
         * @param site      where to read
         * @param positions one position per row (not {@link Positions#all()})
         * @param acc       the running sum the selected rows are added to
         * @return this builder
         * @throws InvalidArgumentException when {@code site} is already captured or the positions are all()
         */
        public Builder captureMean(HookSite site, Positions positions, MeanAccumulator acc) {
            if (positions.mode() == Positions.Mode.ALL) {
                throw new InvalidArgumentException("positions", "a mean capture takes one position per row");
            }
            return put(new Capture(site, positions, acc));
        }

        private Builder put(Capture c) {
            if (captures.put(c.site(), c) != null) {
                throw new InvalidArgumentException("site", "site " + c.site() + " is captured twice in one plan");
            }
            return this;
        }

        /**
         * Adds a head patch (applied in plan order).
         *
         * @param p the patch
         * @return this builder
         */
        public Builder patch(HeadPatch p) {
            patches.add(p);
            return this;
        }

        /**
         * Adds a residual addition (applied in plan order).
         *
         * @param a the addition
         * @return this builder
         */
        public Builder add(ResidualAdd a) {
            adds.add(a);
            return this;
        }

        /**
         * The plan (checked against a model only by {@link HookPlan#validate}).
         *
         * @return the immutable plan
         */
        public HookPlan build() {
            return new HookPlan(new ArrayList<>(captures.values()), patches, adds);
        }
    }
}
