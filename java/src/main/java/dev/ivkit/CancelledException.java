package dev.ivkit;

/**
 * Thrown by the {@link Ivkit} facade when a {@link CancellationToken} was cancelled or the calling thread was
 * interrupted. Work is stopped between two steps (prompts of a scan, optimizer steps of training), so whatever was
 * written before — a training checkpoint in particular — is complete and intact.
 */
public class CancelledException extends IvkitException {
    /** @param message what was stopped, and where it can be resumed from */
    public CancelledException(String message) {
        super(message);
    }
}
