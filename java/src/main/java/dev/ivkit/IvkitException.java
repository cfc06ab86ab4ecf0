package dev.ivkit;

/** Base of every exception ivkit throws on purpose. Unchecked: callers catch what they can handle. */
public class IvkitException extends RuntimeException {
    public IvkitException(String message) {
        super(message);
    }

    public IvkitException(String message, Throwable cause) {
        super(message, cause);
    }
}
