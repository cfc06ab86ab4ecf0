package dev.ivkit.data;

import dev.ivkit.InvalidArgumentException;
import java.nio.file.Path;
import java.util.List;

/** What every {@link TaskDataset} reader does with a record's input and output: blank checks, naming, null checks. */
final class ExampleRecords {
    private ExampleRecords() {}

    /**
     * Adds the example {@code (input, output)} of {@code file}'s record {@code record}; a blank input is an error, a
     * blank output is rejected, skipped or kept as {@code blank} says (null: rejected).
     */
    static void add(List<TaskExample> out, Path file, int record, String input, String inKey,
            String output, String outKey, BlankOutputs blank) {
        if (input.isBlank()) {
            throw new DataFormatException(file, record, "\"" + inKey + "\" is blank");
        }
        if (output.isBlank()) {
            switch (blank == null ? BlankOutputs.REJECT : blank) {
                case REJECT -> throw new DataFormatException(file, record, "\"" + outKey + "\" is blank");
                case SKIP -> {
                    return;
                }
                case KEEP -> { }
            }
        }
        out.add(new TaskExample(input, output));
    }

    /** {@code out}, or a {@link DataFormatException} when blank outputs left it empty. */
    static List<TaskExample> noneLeft(List<TaskExample> out, Path file) {
        if (out.isEmpty()) {
            throw new DataFormatException(file, -1, "no records (every record has a blank output)");
        }
        return out;
    }

    /** The file name without {@code .json}. */
    static String stem(Path file) {
        Path f = file.getFileName();
        String s = f == null ? file.toString() : f.toString();
        return s.endsWith(".json") ? s.substring(0, s.length() - 5) : s;
    }

    /** An {@link InvalidArgumentException} naming {@code field} when {@code o} is null. */
    static void requireNonNull(Object o, String field) {
        if (o == null) {
            throw new InvalidArgumentException(field, "is null");
        }
    }
}
