package dev.ivkit.results;

import dev.ivkit.InvalidArgumentException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The recovery test's numbers, the one place they are computed for {@code results.json} and {@code summary.json}: a
 * task's pre-fine-tuning instruction vector added to the fine-tuned model.
 *
 * <ul>
 *   <li>{@code lost} = accuracy when the task was learned − accuracy now;
 *   <li>{@code regained} = accuracy with the pre-fine-tuning IV − accuracy now (absolute points, negative when the IV
 *       hurts);
 *   <li>{@code share_regained} = regained / lost, defined only when lost ≥ {@value #LOST_FLOOR}; below that floor it is
 *       null and {@code share_reason} says why (a share of a near-zero loss is noise: −0.05 / 0.03 reads as −167 %).
 * </ul>
 * With accuracies in [0, 1] and lost ≥ {@value #LOST_FLOOR}, the accuracy now is at most 0.5, so the share lies in
 * [{@value #SHARE_MIN}, {@value #SHARE_MAX}] by construction; a share outside it is refused with a
 * {@link RecoveryRangeException}, never written.
 */
public final class RecoveryScore {
    /** The smallest loss (accuracy points, on a 0–1 scale) for which the share regained is defined. */
    public static final double LOST_FLOOR = 0.5;
    /** The smallest share regained the floor allows (the IV takes the remaining accuracy away). */
    public static final double SHARE_MIN = -1;
    /** The largest share regained the floor allows (the IV lifts accuracy from 0 to 1 after a loss of 0.5). */
    public static final double SHARE_MAX = 2;
    /** What {@code recovery} means, for the {@code definitions} of the files that carry it. */
    public static final String DEFINITION = "the task's pre-fine-tuning IV added to the fine-tuned model: lost = accuracy when "
            + "learned - accuracy now; regained = accuracy with the IV - accuracy now (absolute points, negative when the IV "
            + "hurts); share_regained = regained / lost only where lost >= " + LOST_FLOOR + " (then in [-1, 2] by construction), "
            + "else null with share_reason saying why";
    /** Rounding slack at the bounds: a share this close outside them is the bound itself. */
    private static final double SLACK = 1e-9;
    /** Rounding slack at the floor: 0.65 − 0.15 is 0.5 here although it rounds below it. */
    private static final double FLOOR_SLACK = 1e-12;

    private RecoveryScore() {}

    /**
     * The recovery test of one task at one stage.
     *
     * @param learned the task's accuracy when it was learned (or before fine-tuning), in [0, 1]
     * @param now     its accuracy now, in [0, 1]
     * @param withIv  its accuracy now with the pre-fine-tuning IV added, in [0, 1]
     * @return lost, regained, and the share (null with a reason below the floor)
     * @throws InvalidArgumentException when an accuracy is not a number in [0, 1] (naming which)
     * @throws RecoveryRangeException   when the share falls outside [{@value #SHARE_MIN}, {@value #SHARE_MAX}]
     */
    public static ResultsFile.Recovery of(double learned, double now, double withIv) {
        accuracy("learned", learned);
        accuracy("now", now);
        accuracy("with_iv", withIv);
        double lost = learned - now, regained = withIv - now;
        Double share = share(lost, regained);
        return new ResultsFile.Recovery(withIv, lost, regained, share, share == null ? reason(lost) : null);
    }

    /**
     * regained / lost where lost ≥ {@value #LOST_FLOOR}, else null (also when either is not a number).
     *
     * @param lost     accuracy points lost since the task was learned
     * @param regained accuracy points the pre-fine-tuning IV brings back
     * @return the share, or null below the floor
     * @throws RecoveryRangeException when the share falls outside [{@value #SHARE_MIN}, {@value #SHARE_MAX}] (the
     *                                accuracies behind it were not in [0, 1])
     */
    public static Double share(double lost, double regained) {
        if (!atFloor(lost) || !Double.isFinite(lost) || !Double.isFinite(regained)) {
            return null;
        }
        double s = regained / lost;
        if (s < SHARE_MIN - SLACK || s > SHARE_MAX + SLACK) {
            throw new RecoveryRangeException(s, lost, regained);
        }
        return Math.max(SHARE_MIN, Math.min(SHARE_MAX, s));
    }

    /**
     * Why the share is not defined for a loss of {@code lost}: {@code "lost 0.030 < 0.5"}; null when it is.
     *
     * @param lost accuracy points lost
     * @return the reason, or null where lost ≥ {@value #LOST_FLOOR}
     */
    public static String reason(double lost) {
        if (atFloor(lost)) {
            return null;
        }
        return Double.isNaN(lost) ? "lost not measured" : String.format(Locale.ROOT, "lost %.3f < %s", lost, LOST_FLOOR);
    }

    /**
     * The JSON tree of a recovery entry as the writers put it in {@code iv_dynamics}: {@code accuracy_with_pre_iv},
     * {@code lost}, {@code regained}, {@code share_regained} (null below the floor) and, only then, {@code share_reason}.
     *
     * @param r the recovery test
     * @return the members in that order
     */
    public static Map<String, Object> json(ResultsFile.Recovery r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy_with_pre_iv", r.accuracyWithPreIv());
        m.put("lost", r.lost());
        m.put("regained", r.regained());
        m.put("share_regained", r.shareRegained());
        if (r.shareReason() != null) {
            m.put("share_reason", r.shareReason());
        }
        return m;
    }

    /**
     * Whether {@code s} lies in [{@value #SHARE_MIN}, {@value #SHARE_MAX}].
     *
     * @param s a share regained
     * @return false also for NaN
     */
    public static boolean inRange(double s) {
        return s >= SHARE_MIN && s <= SHARE_MAX;
    }

    private static boolean atFloor(double lost) {
        return lost >= LOST_FLOOR - FLOOR_SLACK;
    }

    private static void accuracy(String field, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new InvalidArgumentException("recovery." + field, "an accuracy must be in [0, 1], got " + v);
        }
    }
}
