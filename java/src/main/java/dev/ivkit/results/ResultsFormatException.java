package dev.ivkit.results;

import dev.ivkit.IvkitException;

/**
 * A results file ({@link ResultsFile}) cannot be read: it is not one, it is of a newer schema version, it is not valid
 * JSON, or a known member has the wrong shape. The message names the file and, where known, the member as a JSON path
 * such as {@code methods.naive.seeds.0.AP}; {@link #where()} and {@link #field()} give them to callers.
 */
public class ResultsFormatException extends IvkitException {
    /** The file (or what the text was called). */
    private final String where;
    /** The JSON path of the offending member, or null. */
    private final String field;
    /** What is wrong, without the file and member. */
    private final String reason;

    /**
     * An error in {@code where} (the file), at {@code field}.
     *
     * @param where   the file (or what the text was called)
     * @param field   the offending member as a JSON path, or null for the file as a whole
     * @param message what is wrong
     */
    public ResultsFormatException(String where, String field, String message) {
        this(where, field, message, null);
    }

    /**
     * The same with the exception that caused it.
     *
     * @param where   the file (or what the text was called)
     * @param field   the offending member as a JSON path, or null for the file as a whole
     * @param message what is wrong
     * @param cause   the parser's or the file system's exception
     */
    public ResultsFormatException(String where, String field, String message, Throwable cause) {
        super(where + (field == null ? "" : " [" + field + "]") + ": " + message, cause);
        this.where = where;
        this.field = field;
        this.reason = message;
    }

    /**
     * The file at fault.
     *
     * @return the file (or what the text was called)
     */
    public String where() {
        return where;
    }

    /**
     * What is wrong.
     *
     * @return the message without the file and member it starts with
     */
    public String reason() {
        return reason;
    }

    /**
     * The member at fault.
     *
     * @return the JSON path of the offending member, or null for the file as a whole
     */
    public String field() {
        return field;
    }
}
