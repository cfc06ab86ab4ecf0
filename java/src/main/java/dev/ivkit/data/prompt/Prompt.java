package dev.ivkit.data.prompt;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.TaskExample;
import java.util.List;

/**
 * A built prompt.
 *
 * @param text instructions + demonstrations + query, up to and including the output prefix (e.g. ends in
 *     {@code "\nA:"}); no BOS text — {@link TokenizedPrompt#of} adds the BOS id
 * @param target the text the model should continue with, including its leading space where the convention puts one
 *     (see {@link PromptBuilder#targetText(String, boolean)}); {@code text + target} is the full sequence
 * @param query the query example as given (raw, without added spaces)
 * @param demos the demonstrations in prompt order as shown in the text (raw; with shuffled labels, the outputs are
 *     the permuted ones)
 */
public record Prompt(String text, String target, TaskExample query, List<TaskExample> demos) {
    /**
     * Checks the texts and copies {@code demos} (null becomes empty).
     *
     * @param text the prompt text
     * @param target the target text
     * @param query the query example
     * @param demos the demonstrations, or null for none
     * @throws InvalidArgumentException when {@code text} or {@code target} is null
     */
    public Prompt {
        if (text == null) {
            throw new InvalidArgumentException("text", "is null");
        }
        if (target == null) {
            throw new InvalidArgumentException("target", "is null");
        }
        demos = demos == null ? List.of() : List.copyOf(demos);
    }

    /**
     * {@code text + target}.
     *
     * @return the full sequence's text
     */
    public String fullText() {
        return text + target;
    }
}
