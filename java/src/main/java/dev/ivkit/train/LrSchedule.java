package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;

/**
 * Learning rate per optimizer step: linear warm-up from 0 over {@code warmupSteps}, then constant, linear decay, or
 * cosine decay at {@code totalSteps} to {@code minFraction · peak} (0 unless given). (The IV authors pass a warm-up ratio with a constant schedule, which
 * ignores it in HF's trainer; here warm-up applies to every kind.)
 *
 * @param kind        the shape after warm-up
 * @param peak        the learning rate at the end of warm-up; &gt; 0
 * @param warmupSteps optimizer steps of warm-up; ≥ 0
 * @param totalSteps  optimizer steps of the run; &gt; 0
 * @param minFraction the decayed learning rate at {@code totalSteps} as a fraction of {@code peak}, in [0, 1]
 */
public record LrSchedule(Kind kind, double peak, int warmupSteps, int totalSteps, double minFraction) {
    /** The shape after warm-up. */
    public enum Kind {
        /** {@code peak} until the end. */
        CONSTANT,
        /** Linear decay from {@code peak} to the floor at {@code totalSteps}. */
        LINEAR,
        /** Half-cosine decay from {@code peak} to the floor at {@code totalSteps}. */
        COSINE
    }

    /**
     * Checks the settings.
     *
     * @param kind        the shape after warm-up
     * @param peak        the learning rate at the end of warm-up
     * @param warmupSteps optimizer steps of warm-up
     * @param totalSteps  optimizer steps of the run
     * @param minFraction the decayed learning rate as a fraction of {@code peak}
     * @throws InvalidArgumentException when {@code peak} or {@code totalSteps} is not positive, {@code warmupSteps} is
     *                                  negative or {@code minFraction} is outside [0, 1]
     */
    public LrSchedule {
        if (!(peak > 0) || warmupSteps < 0 || totalSteps <= 0 || !(minFraction >= 0 && minFraction <= 1)) {
            throw new InvalidArgumentException("lr", "bad schedule: peak " + peak + ", warmup " + warmupSteps + ", total "
                    + totalSteps + ", min fraction " + minFraction);
        }
    }

    /**
     * A schedule that decays to 0.
     *
     * @param kind        the shape after warm-up
     * @param peak        the learning rate at the end of warm-up
     * @param warmupSteps optimizer steps of warm-up
     * @param totalSteps  optimizer steps of the run
     * @throws InvalidArgumentException as the canonical constructor
     */
    public LrSchedule(Kind kind, double peak, int warmupSteps, int totalSteps) {
        this(kind, peak, warmupSteps, totalSteps, 0);
    }

    /**
     * Learning rate of an optimizer step; during warm-up step s gets {@code peak · (s + 1) / warmupSteps}.
     *
     * @param step the optimizer step, 0-based
     * @return the learning rate
     */
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

    /**
     * The kind a name denotes, case-insensitively.
     *
     * @param s {@code constant}, {@code linear} or {@code cosine}
     * @return the kind
     * @throws InvalidArgumentException for any other name
     */
    public static Kind parse(String s) {
        try {
            return Kind.valueOf(s.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("schedule", "unknown schedule '" + s + "' (constant, linear, cosine)");
        }
    }
}
