package dev.ivkit.pipeline;

import dev.ivkit.InvalidArgumentException;
import java.nio.file.Path;

/**
 * A work folder holds a scan (finished or not) that was started with other settings, or one whose state cannot be
 * read; {@link ResumableScan} refuses to resume or reuse it unless asked to restart. {@link #field()} names the first
 * setting that differs, as the scan's {@code args} record it ({@code prompts_requested}, {@code seed},
 * {@code task_sha256}, ...), or is {@code args_fingerprint} when the old settings are unknown.
 */
public class ScanMismatchException extends InvalidArgumentException {
    /** The file that records the other settings. */
    private final Path file;
    /** The setting's value in the folder, or null. */
    private final Object was;
    /** The setting's value for the refused scan. */
    private final Object now;

    /**
     * @param file  the file that records the other settings
     * @param field the first differing setting
     * @param was   its value in the folder (null when unknown)
     * @param now   its value for this scan
     */
    public ScanMismatchException(Path file, String field, Object was, Object now) {
        super(field, file + " was made with other settings (" + field + " is " + (was == null ? "unknown" : was)
                + " there, " + now + " here)");
        this.file = file;
        this.was = was;
        this.now = now;
    }

    /** @return the file that records the other settings */
    public Path file() {
        return file;
    }

    /** @return the setting's value in the folder, or null when unknown */
    public Object was() {
        return was;
    }

    /** @return the setting's value for the scan that was refused */
    public Object now() {
        return now;
    }
}
