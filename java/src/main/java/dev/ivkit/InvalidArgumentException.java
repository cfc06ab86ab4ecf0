package dev.ivkit;

/** An argument is out of range or inconsistent; {@link #field()} names it (for example {@code "layer"}). */
public class InvalidArgumentException extends IvkitException {
    /** The offending argument or field, or null. */
    private final String field;

    /**
     * Creates the exception; the message reads {@code "field: message"}.
     *
     * @param field the offending argument or field, or null when none is known
     * @param message what is wrong with it
     */
    public InvalidArgumentException(String field, String message) {
        super(field == null ? message : field + ": " + message);
        this.field = field;
    }

    /**
     * The offending argument or field.
     *
     * @return its name, or null when the native side did not name one
     */
    public String field() {
        return field;
    }
}
