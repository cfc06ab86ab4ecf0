package dev.ivkit;

/** A valid request this build or machine cannot serve (for example CUDA without a GPU). */
public class UnsupportedException extends IvkitException {
    public UnsupportedException(String message) {
        super(message);
    }
}
