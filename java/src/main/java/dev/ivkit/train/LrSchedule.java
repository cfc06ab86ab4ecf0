package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;

/**
 * Learning rate per optimizer step: linear warm-up from 0 over {@code warmupSteps}, then constant, linear decay to 0,
 * or cosine decay to 0 at {@code totalSteps}. (The IV authors pass a warm-up ratio with a constant schedule, which
 * ignores it in HF's trainer; here warm-up applies to every kind.)
 */
public record LrSchedule(Kind kind, double peak, int warmupSteps, int totalSteps) {
    public enum Kind { CONSTANT, LINEAR, COSINE }

    public LrSchedule {
        if (!(peak > 0) || warmupSteps < 0 || totalSteps <= 0) {
            throw new InvalidArgumentException("lr", "bad schedule: peak " + peak + ", warmup " + warmupSteps + ", total " + totalSteps);
        }
    }

    /** Learning rate of optimizer step {@code step} (0-based). */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double progress = totalSteps <= warmupSteps ? 1 : (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        progress = Math.min(1, Math.max(0, progress));
        return switch (kind) {
            case CONSTANT -> peak;
            case LINEAR -> peak * (1 - progress);
            case COSINE -> peak * 0.5 * (1 + Math.cos(Math.PI * progress));
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
