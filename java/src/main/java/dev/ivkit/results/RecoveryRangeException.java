package dev.ivkit.results;

import dev.ivkit.InvalidArgumentException;
import java.util.Locale;

/**
 * A recovery share fell outside [{@value RecoveryScore#SHARE_MIN}, {@value RecoveryScore#SHARE_MAX}], which accuracies
 * in [0, 1] with a loss of at least {@value RecoveryScore#LOST_FLOOR} cannot give; it is refused rather than written.
 */
public class RecoveryRangeException extends InvalidArgumentException {
    /** The share that was refused. */
    private final double share;

    /**
     * Creates the exception for {@code share} = {@code regained} / {@code lost}.
     *
     * @param share    the refused share
     * @param lost     the loss it divides by
     * @param regained the points regained
     */
    public RecoveryRangeException(double share, double lost, double regained) {
        super("recovery.share_regained", String.format(Locale.ROOT, "share %.4f = regained %.4f / lost %.4f is outside [%s, %s]",
                share, regained, lost, RecoveryScore.SHARE_MIN, RecoveryScore.SHARE_MAX));
        this.share = share;
    }

    /**
     * The refused share.
     *
     * @return regained / lost
     */
    public double share() {
        return share;
    }
}
