package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;

/**
 * Learning rate per optimizer step: linear warm-up from 0 over {@code warmupSteps}, then constant, linear decay, or
 * cosine decay at {@code totalSteps} to {@code minFraction · peak} (0 unless given). (The IV authors pass a warm-up ratio with a constant schedule, which
 * ignores it in HF's trainer; here warm-up applies to every kind.)
 */
public record LrSchedule(Kind kind, double peak, int warmupSteps, int totalSteps, double minFraction) {
    public enum Kind { CONSTANT, LINEAR, COSINE }

    public LrSchedule {
        if (!(peak > 0) || warmupSteps < 0 || totalSteps <= 0 || !(minFraction >= 0 && minFraction <= 1)) {
            throw new InvalidArgumentException("lr", "bad schedule: peak " + peak + ", warmup " + warmupSteps + ", total "
                    + totalSteps + ", min fraction " + minFraction);
        }
    }

    /** A schedule that decays to 0. */
    public LrSchedule(Kind kind, double peak, int warmupSteps, int totalSteps) {
        this(kind, peak, warmupSteps, totalSteps, 0);
    }

    /** Learning rate of optimizer step {@code step} (0-based). */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double progress = totalSteps <= warmupSteps ? 1 : (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        progress = Math.min(1, Math.max(0, progress));
        double floor = peak * minFraction;
        return switch (kind) {
            case CONSTANT -> peak;
            case LINEAR -> floor + (peak - floor) * (1 - progress);
            case COSINE -> floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }

    public static Kind parse(String s) {
        try {
            return Kind.valueOf(s.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("schedule", "unknown schedule '" + s + "' (constant, linear, cosine)");
        }
    }
}
