package dev.ivkit.data;

import dev.ivkit.IvkitException;
import java.nio.file.Path;

/**
 * A task data file cannot be used: it is missing, is not valid JSON, or a record lacks a field. The message names the
 * file (by its file name) and, where the problem is in one record, the record's index in the file's array, for
 * example {@code antonym.json record 17: missing "output"}.
 */
public class DataFormatException extends IvkitException {
    private final Path file;
    private final int record;

    public DataFormatException(Path file, int record, String message) {
        this(file, record, message, null);
    }

    public DataFormatException(Path file, int record, String message, Throwable cause) {
        super(prefix(file, record) + message, cause);
        this.file = file;
        this.record = record;
    }

    private static String prefix(Path file, int record) {
        String name = file == null ? "<unknown file>"
                : file.getFileName() == null ? file.toString() : file.getFileName().toString();
        return record >= 0 ? name + " record " + record + ": " : name + ": ";
    }

    /** The offending file. */
    public Path file() {
        return file;
    }

    /** Index of the offending record in the file's array, or -1 when the problem is not in one record. */
    public int record() {
        return record;
    }
}
