package dev.ivkit;

/** Base of every exception ivkit throws on purpose. Unchecked: callers catch what they can handle. */
public class IvkitException extends RuntimeException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong
     */
    public IvkitException(String message) {
        super(message);
    }

    /**
     * Creates the exception with the failure that caused it.
     *
     * @param message what went wrong
     * @param cause the underlying failure
     */
    public IvkitException(String message, Throwable cause) {
        super(message, cause);
    }
}
