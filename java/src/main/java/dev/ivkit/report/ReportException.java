package dev.ivkit.report;

import dev.ivkit.ModelFormatException;
import java.nio.file.Path;

/**
 * A report input cannot be used: the run folder is missing, or a file in it is not valid JSON or has a known field of
 * the wrong shape. The message names the file and, where known, the field (a JSON path such as
 * {@code methods.naive.seeds.0.AP}); {@link #file()} and {@link #field()} give them to callers.
 */
public class ReportException extends ModelFormatException {
    public ReportException(Path file, String field, String message) {
        super(file, field, message);
    }

    public ReportException(Path file, String field, String message, Throwable cause) {
        super(file, field, message, cause);
    }
}
