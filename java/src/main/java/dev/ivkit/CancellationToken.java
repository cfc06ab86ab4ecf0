package dev.ivkit;

/**
 * Cooperative cancellation for the {@link Ivkit} facade: call {@link #cancel()} from any thread; the running
 * operation notices it at its next check (between two scanned prompts, between two optimizer steps) and throws
 * {@link CancelledException}. An interrupt of the thread running the operation is honoured the same way (and its
 * interrupt flag is left set). Cancellation cannot be undone: use a fresh token for the next operation.
 */
public final class CancellationToken {
    private volatile boolean cancelled;
    private volatile String reason = "cancelled";

    /** A token that is not cancelled. */
    public CancellationToken() {}

    /** Asks the operation that checks this token to stop at its next check. Safe from any thread; idempotent. */
    public void cancel() {
        cancelled = true;
    }

    /**
     * Like {@link #cancel()}, with a reason that the {@link CancelledException}'s message starts with.
     *
     * @param why shown in the exception's message
     */
    public void cancel(String why) {
        reason = why == null ? "cancelled" : why;
        cancelled = true;
    }

    /** @return whether {@link #cancel()} was called */
    public boolean isCancelled() {
        return cancelled;
    }

    /**
     * Throws when cancelled or when the current thread is interrupted.
     *
     * @param where what would be stopped (becomes part of the message)
     * @throws CancelledException when the operation must stop
     */
    public void throwIfCancelled(String where) {
        if (cancelled) {
            throw new CancelledException(reason + ": " + where);
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new CancelledException("interrupted: " + where);
        }
    }
}
