package dev.ivkit.kernels;

import dev.ivkit.IvkitException;

/** A native kernel failed for a reason other than a bad argument: CUDA error, out of memory, internal error. */
public class NativeException extends IvkitException {
    private final Status status;

    public NativeException(Status status, String message) {
        super(status + ": " + message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
