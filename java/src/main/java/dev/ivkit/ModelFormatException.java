package dev.ivkit;

import java.nio.file.Path;

/**
 * A model, tokenizer or weights file is corrupt, truncated, or contradicts its configuration. The message
 * names the file and, where known, the tensor or field.
 */
public class ModelFormatException extends IvkitException {
    /** The offending file. */
    private final Path file;
    /** Tensor name or header field, or null. */
    private final String field;

    /**
     * Creates the exception; the message reads {@code "file [field]: message"}.
     *
     * @param file the offending file
     * @param field tensor name or header field, or null when the whole file is at fault
     * @param message what is wrong
     */
    public ModelFormatException(Path file, String field, String message) {
        super(file + (field == null ? "" : " [" + field + "]") + ": " + message);
        this.file = file;
        this.field = field;
    }

    /**
     * Creates the exception with the failure that caused it (for example an {@link java.io.IOException}).
     *
     * @param file the offending file
     * @param field tensor name or header field, or null when the whole file is at fault
     * @param message what is wrong
     * @param cause the underlying failure
     */
    public ModelFormatException(Path file, String field, String message, Throwable cause) {
        super(file + (field == null ? "" : " [" + field + "]") + ": " + message, cause);
        this.file = file;
        this.field = field;
    }

    /**
     * The offending file.
     *
     * @return the path as given to the reader
     */
    public Path file() {
        return file;
    }

    /**
     * The tensor or header field at fault.
     *
     * @return the tensor name or header field, or null when the whole file is at fault
     */
    public String field() {
        return field;
    }
}
