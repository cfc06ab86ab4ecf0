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
 */
public record IvSchedule(Kind kind, double peak, double rampFraction) {
    public enum Kind { CONSTANT, RAMP }

    public IvSchedule {
        if (!(peak >= 0) || !(rampFraction >= 0 && rampFraction <= 1)) {
            throw new InvalidArgumentException("ivSchedule", "peak must be >= 0 and ramp fraction in [0, 1]");
        }
    }

    public static IvSchedule defaults() {
        return new IvSchedule(Kind.RAMP, 1.0, 0.1);
    }

    public double at(int step, int totalSteps) {
        if (kind == Kind.CONSTANT || rampFraction == 0) {
            return peak;
        }
        double rampSteps = Math.max(1, rampFraction * totalSteps);
        return peak * Math.min(1.0, (step + 1) / rampSteps);
    }
}
