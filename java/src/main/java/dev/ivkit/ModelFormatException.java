package dev.ivkit;

import java.nio.file.Path;

/**
 * A model, tokenizer or weights file is corrupt, truncated, or contradicts its configuration. The message
 * names the file and, where known, the tensor or field.
 */
public class ModelFormatException extends IvkitException {
    private final Path file;
    private final String field;

    public ModelFormatException(Path file, String field, String message) {
        super(file + (field == null ? "" : " [" + field + "]") + ": " + message);
        this.file = file;
        this.field = field;
    }

    public ModelFormatException(Path file, String field, String message, Throwable cause) {
        super(file + (field == null ? "" : " [" + field + "]") + ": " + message, cause);
        this.file = file;
        this.field = field;
    }

    public Path file() {
        return file;
    }

    /** Tensor name or header field, or null. */
    public String field() {
        return field;
    }
}
