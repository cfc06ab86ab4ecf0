package dev.ivkit.kernels;

import dev.ivkit.IvkitException;

/**
 * A native kernel failed for a reason other than a bad argument: CUDA error, out of memory, internal error. The
 * message starts with the status name ({@code CUDA: ...}, {@code OUT_OF_MEMORY: ...}, {@code INTERNAL: ...}).
 * Callers outside ivkit catch it as an {@link IvkitException}.
 */
public class NativeException extends IvkitException {
    /** The native status behind the failure (its name starts the message). */
    private final Status status;

    NativeException(Status status, String message) {
        super(status + ": " + message);
        this.status = status;
    }

    /** The native status code behind the failure. */
    Status status() {
        return status;
    }
}
