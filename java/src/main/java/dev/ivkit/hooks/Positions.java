package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import java.util.Arrays;

/**
 * Which sequence positions a hook reads or writes, per batch row: the last real token, one explicit position per
 * row, or every position. Positions index the input of this forward call (0 = its first token).
 */
public final class Positions {
    /** How the positions are chosen. */
    public enum Mode {
        /** The last token of each row. */
        LAST,
        /** One given position per row. */
        EXPLICIT,
        /** Every position. */
        ALL
    }

    private final Mode mode;
    private final long[] perRow;

    private Positions(Mode mode, long[] perRow) {
        this.mode = mode;
        this.perRow = perRow;
    }

    /**
     * The last token of each row (with left padding: the last column).
     *
     * @return positions that resolve to each row's last column
     */
    public static Positions last() {
        return new Positions(Mode.LAST, null);
    }

    /**
     * Every position: the capture keeps [batch, pos, ...].
     *
     * @return positions that keep every position
     */
    public static Positions all() {
        return new Positions(Mode.ALL, null);
    }

    /**
     * One position per batch row.
     *
     * @param perRow one position per batch row, each in [0, seqLen)
     * @return the explicit positions (a copy of {@code perRow})
     * @throws InvalidArgumentException when {@code perRow} is empty
     */
    public static Positions of(long... perRow) {
        if (perRow.length == 0) {
            throw new InvalidArgumentException("positions", "empty position list");
        }
        return new Positions(Mode.EXPLICIT, perRow.clone());
    }

    /**
     * How the positions are chosen.
     *
     * @return the mode
     */
    public Mode mode() {
        return mode;
    }

    /**
     * Resolves to one position per row for a [batch, seqLen] input; null for {@link Mode#ALL}.
     *
     * @param batch  rows of the input
     * @param seqLen length of the input
     * @param field  the argument named in errors
     * @return one position per row, or null for ALL
     * @throws InvalidArgumentException when explicit positions do not match the batch or are out of range
     */
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
