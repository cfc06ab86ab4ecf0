package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;

/**
 * Strength of the instruction vector added in the reference pass over training (the paper's "progressive IV
 * intervention"; its exact schedule is not published, and the authors' code keeps it at 1).
 *
 * <p>Default: {@code ramp} — 0 → {@code peak} linearly over the first {@code rampFraction} (10 %) of the steps, then
 * constant. Why: at step 0 the fresh adapter (B = 0) makes the current model equal the reference, so a full-strength
 * IV would immediately pull every answer distribution toward the IV-shifted one before the task has been seen; ramping
 * lets the CE term shape the adapter first and then anchors the model ever more firmly to the original
 * instruction-following computation. {@code constant} reproduces the authors' code.
 *
 * @param kind         the schedule's shape
 * @param peak         the strength after the ramp; ≥ 0
 * @param rampFraction the fraction of the steps the ramp lasts, in [0, 1]
 */
public record IvSchedule(Kind kind, double peak, double rampFraction) {
    /** The schedule's shape. */
    public enum Kind {
        /** {@code peak} at every step (the authors' code). */
        CONSTANT,
        /** Linear from 0 to {@code peak} over the first {@code rampFraction} of the steps, then constant. */
        RAMP
    }

    /**
     * Checks the settings.
     *
     * @param kind         the schedule's shape
     * @param peak         the strength after the ramp
     * @param rampFraction the fraction of the steps the ramp lasts
     * @throws InvalidArgumentException when {@code peak} is negative or NaN, or {@code rampFraction} is outside [0, 1]
     */
    public IvSchedule {
        if (!(peak >= 0) || !(rampFraction >= 0 && rampFraction <= 1)) {
            throw new InvalidArgumentException("ivSchedule", "peak must be >= 0 and ramp fraction in [0, 1]");
        }
    }

    /**
     * The default schedule.
     *
     * @return a ramp to strength 1 over the first 10 % of the steps
     */
    public static IvSchedule defaults() {
        return new IvSchedule(Kind.RAMP, 1.0, 0.1);
    }

    /**
     * The IV's strength at a step.
     *
     * @param step       the optimizer step, 0-based
     * @param totalSteps the number of optimizer steps of the run
     * @return the factor the IV is multiplied by, 0 to {@code peak}
     */
    public double at(int step, int totalSteps) {
        if (kind == Kind.CONSTANT || rampFraction == 0) {
            return peak;
        }
        double rampSteps = Math.max(1, rampFraction * totalSteps);
        return peak * Math.min(1.0, (step + 1) / rampSteps);
    }
}
