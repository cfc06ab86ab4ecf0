package dev.ivkit;

/** An argument is out of range or inconsistent; {@link #field()} names it (for example {@code "layer"}). */
public class InvalidArgumentException extends IvkitException {
    private final String field;

    public InvalidArgumentException(String field, String message) {
        super(field == null ? message : field + ": " + message);
        this.field = field;
    }

    /** The offending argument or field, or null when the native side did not name one. */
    public String field() {
        return field;
    }
}
