package dev.ivkit.data;

import dev.ivkit.InvalidArgumentException;

/**
 * One input/output pair of a task. Neither field is null; {@code output} may be empty only when a loader was asked to
 * keep blank outputs ({@link BlankOutputs#KEEP}).
 */
public record TaskExample(String input, String output) {
    /**
     * Checks that neither field is null.
     *
     * @param input the input text
     * @param output the output text
     * @throws InvalidArgumentException naming the null field
     */
    public TaskExample {
        if (input == null) {
            throw new InvalidArgumentException("input", "is null");
        }
        if (output == null) {
            throw new InvalidArgumentException("output", "is null");
        }
    }
}
