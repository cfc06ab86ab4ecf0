package dev.ivkit.data;

import dev.ivkit.IvkitException;
import java.nio.file.Path;

/**
 * A task data file cannot be used: it is missing, is not valid JSON, or a record lacks a field. The message names the
 * file (by its file name) and, where the problem is in one record, the record's index in the file's array, for
 * example {@code antonym.json record 17: missing "output"}.
 */
public class DataFormatException extends IvkitException {
    /** The offending file, or null when unknown. */
    private final Path file;
    /** Index of the offending record in the file's array, or -1. */
    private final int record;

    /**
     * A problem in {@code file}, in record {@code record} or in no single record (-1).
     *
     * @param file the offending file (named by its file name in the message)
     * @param record index of the offending record in the file's array, or -1
     * @param message what is wrong
     */
    public DataFormatException(Path file, int record, String message) {
        this(file, record, message, null);
    }

    /**
     * As {@link #DataFormatException(Path, int, String)}, with the cause (a JSON or I/O error).
     *
     * @param file the offending file (named by its file name in the message)
     * @param record index of the offending record in the file's array, or -1
     * @param message what is wrong
     * @param cause the underlying error, or null
     */
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

    /**
     * The offending file.
     *
     * @return the file, or null when unknown
     */
    public Path file() {
        return file;
    }

    /**
     * Index of the offending record in the file's array, or -1 when the problem is not in one record.
     *
     * @return the record index, or -1
     */
    public int record() {
        return record;
    }
}
