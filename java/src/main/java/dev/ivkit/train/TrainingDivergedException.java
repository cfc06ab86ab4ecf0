package dev.ivkit.train;

import dev.ivkit.IvkitException;

/** The loss or a gradient became NaN or Inf; training stopped and the last good checkpoint is intact. */
public class TrainingDivergedException extends IvkitException {
    /**
     * Creates the exception.
     *
     * @param message what diverged and at which step
     */
    public TrainingDivergedException(String message) {
        super(message);
    }
}
