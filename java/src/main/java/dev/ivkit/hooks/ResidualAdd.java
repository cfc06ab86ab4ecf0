package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import org.bytedeco.pytorch.Tensor;

/**
 * Add {@code scale * vector} to the residual stream at one position per batch row: at {@code hook_resid_post},
 * {@code hook_resid_mid} or {@code hook_attn_out} of a layer. This is how an instruction vector is applied.
 *
 * @param site      blocks.L.hook_resid_post | blocks.L.hook_resid_mid | blocks.L.hook_attn_out
 * @param positions one position per selected row
 * @param vector    [d_model] for every selected row, or [selected rows, d_model]
 * @param scale     factor
 * @param rows      batch rows, or null for all
 */
public record ResidualAdd(HookSite site, Positions positions, Tensor vector, float scale, int[] rows) {
    /**
     * Checks the fields that do not depend on the model (see {@link HookPlan#validate} for the rest).
     *
     * @param site      blocks.L.hook_resid_post, hook_resid_mid or hook_attn_out
     * @param positions one position per selected row
     * @param vector    [d_model] or [selected rows, d_model]
     * @param scale     finite factor
     * @param rows      batch rows, or null for all
     * @throws InvalidArgumentException on a missing field, another site, all() positions, a non-finite scale or empty
     *     rows
     */
    public ResidualAdd {
        if (site == null || positions == null || vector == null) {
            throw new InvalidArgumentException("residualAdd", "site, positions and vector are required");
        }
        if (site.kind() != HookSite.Kind.RESID_POST && site.kind() != HookSite.Kind.RESID_MID
                && site.kind() != HookSite.Kind.ATTN_OUT) {
            throw new InvalidArgumentException("site", "a residual addition goes to hook_resid_post, hook_resid_mid or "
                    + "hook_attn_out, not " + site);
        }
        if (positions.mode() == Positions.Mode.ALL) {
            throw new InvalidArgumentException("positions", "a residual addition takes one position per row, not all()");
        }
        if (!Float.isFinite(scale)) {
            throw new InvalidArgumentException("scale", "must be finite, got " + scale);
        }
        if (rows != null && rows.length == 0) {
            throw new InvalidArgumentException("rows", "an empty row selection would add nothing");
        }
    }

    /**
     * Adds to every row's last token at blocks.L.hook_resid_post.
     *
     * @param layer  the block whose output is changed
     * @param vector [d_model] for every row, or [batch, d_model]
     * @param scale  finite factor
     * @return the addition
     */
    public static ResidualAdd residPostAtLast(int layer, Tensor vector, float scale) {
        return new ResidualAdd(HookSite.residPost(layer), Positions.last(), vector, scale, null);
    }
}
