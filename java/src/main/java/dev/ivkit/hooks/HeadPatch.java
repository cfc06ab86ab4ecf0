package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.PatchMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Overwrite (REPLACE) or add to (ADD) the output z of one query head, before W_O, at one position per batch row.
 *
 * @param layer     layer index
 * @param head      query-head index (per query head under grouped-query attention)
 * @param positions one position per selected row (padding positions are an error)
 * @param value     [d_head] for every selected row, or [selected rows, d_head]
 * @param mode      REPLACE or ADD
 * @param rows      batch rows to patch, or null for all rows
 */
public record HeadPatch(int layer, int head, Positions positions, Tensor value, PatchMode mode, int[] rows) {
    /**
     * Checks the fields that do not depend on the model (see {@link HookPlan#validate} for the rest).
     *
     * @param layer     layer index
     * @param head      query-head index
     * @param positions one position per selected row
     * @param value     [d_head] or [selected rows, d_head]
     * @param mode      REPLACE or ADD
     * @param rows      batch rows to patch, or null for all rows
     * @throws InvalidArgumentException when positions, value or mode is missing, positions is all(), or rows is empty
     */
    public HeadPatch {
        if (positions == null || value == null || mode == null) {
            throw new InvalidArgumentException("headPatch", "positions, value and mode are required");
        }
        if (positions.mode() == Positions.Mode.ALL) {
            throw new InvalidArgumentException("positions", "a head patch takes one position per row, not all()");
        }
        if (rows != null && rows.length == 0) {
            throw new InvalidArgumentException("rows", "an empty row selection would patch nothing");
        }
    }

    /**
     * Patches every batch row at its last token.
     *
     * @param layer layer index
     * @param head  query-head index
     * @param value [d_head] for every row, or [batch, d_head]
     * @param mode  REPLACE or ADD
     * @return the patch
     */
    public static HeadPatch atLast(int layer, int head, Tensor value, PatchMode mode) {
        return new HeadPatch(layer, head, Positions.last(), value, mode, null);
    }
}
