package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import java.util.Arrays;

/**
 * Which sequence positions a hook reads or writes, per batch row: the last real token, one explicit position per
 * row, or every position. Positions index the input of this forward call (0 = its first token).
 */
public final class Positions {
    public enum Mode { LAST, EXPLICIT, ALL }

    private final Mode mode;
    private final long[] perRow;

    private Positions(Mode mode, long[] perRow) {
        this.mode = mode;
        this.perRow = perRow;
    }

    /** The last token of each row (with left padding: the last column). */
    public static Positions last() {
        return new Positions(Mode.LAST, null);
    }

    /** Every position: the capture keeps [batch, pos, ...]. */
    public static Positions all() {
        return new Positions(Mode.ALL, null);
    }

    /** One position per batch row. */
    public static Positions of(long... perRow) {
        if (perRow.length == 0) {
            throw new InvalidArgumentException("positions", "empty position list");
        }
        return new Positions(Mode.EXPLICIT, perRow.clone());
    }

    public Mode mode() {
        return mode;
    }

    /** Resolves to one position per row for a [batch, seqLen] input; null for {@link Mode#ALL}. */
    public long[] resolve(int batch, int seqLen, String field) {
        switch (mode) {
            case ALL:
                return null;
            case LAST: {
                long[] r = new long[batch];
                Arrays.fill(r, seqLen - 1);
                return r;
            }
            default: {
                if (perRow.length != batch) {
                    throw new InvalidArgumentException(field, perRow.length + " positions for a batch of " + batch);
                }
                for (int b = 0; b < batch; b++) {
                    if (perRow[b] < 0 || perRow[b] >= seqLen) {
                        throw new InvalidArgumentException(field, "position " + perRow[b] + " of row " + b
                                + " is out of range [0, " + seqLen + ")");
                    }
                }
                return perRow.clone();
            }
        }
    }

    @Override
    public String toString() {
        return mode == Mode.EXPLICIT ? Arrays.toString(perRow) : mode.name().toLowerCase();
    }
}
