package dev.ivkit;

/** A valid request this build or machine cannot serve (for example CUDA without a GPU). */
public class UnsupportedException extends IvkitException {
    /**
     * Creates the exception.
     *
     * @param message what was asked for and why it cannot be served
     */
    public UnsupportedException(String message) {
        super(message);
    }
}
