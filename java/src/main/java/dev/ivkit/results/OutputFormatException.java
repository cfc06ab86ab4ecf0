package dev.ivkit.results;

import dev.ivkit.ModelFormatException;
import java.nio.file.Path;

/**
 * An ivkit output file ({@code eval.json}, {@code probe.json}) cannot be read: it is not JSON, is another format,
 * has a {@code schema_version} this ivkit does not read, or a member is missing or of the wrong type. The message
 * names the file and, where known, the member as a JSON path (such as {@code settings.zero_shot[1].top1}); {@link #file()}
 * and {@link #field()} give them to callers.
 */
public class OutputFormatException extends ModelFormatException {
    /** What is wrong, without the file and member. */
    private final String reason;

    /**
     * @param file    the file (or a name standing for it)
     * @param field   the member at fault as a JSON path, or null for the whole file
     * @param message what is wrong
     */
    public OutputFormatException(Path file, String field, String message) {
        super(file, field, message);
        this.reason = message;
    }

    /**
     * @param file    the file (or a name standing for it)
     * @param field   the member at fault as a JSON path, or null for the whole file
     * @param message what is wrong
     * @param cause   the parser's or the file system's exception
     */
    public OutputFormatException(Path file, String field, String message, Throwable cause) {
        super(file, field, message, cause);
        this.reason = message;
    }

    /** @return what is wrong, without the file and member the message starts with */
    public String reason() {
        return reason;
    }
}
