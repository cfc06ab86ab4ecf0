package dev.ivkit.train;

import dev.ivkit.ModelFormatException;
import java.nio.file.Path;

/**
 * A {@code metrics.jsonl} line cannot be read: it is not a JSON object, lacks its step, has a known member of the
 * wrong type, or was written by a newer schema. The message names the file and the line ({@link #field()} is
 * {@code "line N"}); {@link #line()} and {@link #reason()} give them apart.
 */
public class MetricsFormatException extends ModelFormatException {
    /** The 1-based line number, or 0. */
    private final int line;
    /** What is wrong, without the file and line. */
    private final String reason;

    /**
     * @param file   the metrics file
     * @param line   1-based line number, or 0 when the problem is not in one line
     * @param reason what is wrong, without the file and line
     * @param cause  the parser's exception, or null
     */
    public MetricsFormatException(Path file, int line, String reason, Throwable cause) {
        super(file, line > 0 ? "line " + line : null, reason, cause);
        this.line = line;
        this.reason = reason;
    }

    /** @return the 1-based line number, or 0 when the problem is not in one line */
    public int line() {
        return line;
    }

    /** @return what is wrong, without the file and line */
    public String reason() {
        return reason;
    }
}
