package dev.ivkit.data.prompt;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.TaskExample;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds in-context-learning prompts the way Todd et al.'s {@code word_pairs_to_prompt_data} + {@code create_prompt}
 * do (and [FVF]'s variant of them), plus the IV authors' SuperNI instruction format.
 *
 * <h2>Spaces</h2>
 * With {@code prependSpace} (Todd's {@code prepend_space=True}) a space is put before every demonstration input and
 * output, before the query input, and before the target: {@code "Q: hot\nA: cold\n\nQ: up\nA:"} + target
 * {@code " down"}. Without it ([FVF]'s behaviour when the input prefix is empty, i.e. {@link PromptStyle#NONE})
 * inputs are used as written and every output (demos and target) goes through [FVF]'s rule: {@code ' ' + output},
 * except an output starting with an ASCII digit is used as is and an empty output becomes {@code "."}
 * (method-spec §2.3). Deviation: [FVF] decides that case from the <em>query's</em> output and applies it to all demos
 * of the prompt (and skips it for shuffled-label prompts); here each output is formatted by its own first character.
 * In zero-shot prompts, which is how [FVF] uses this path, the two agree.
 */
public final class PromptBuilder {
    /** Python's {@code string.punctuation}, used by the SuperNI collator to decide whether to add a period. */
    public static final String PYTHON_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private final PromptStyle style;
    private final String instructions;
    private final boolean prependSpace;

    /**
     * No instructions; {@code prependSpace} = {@link PromptStyle#defaultPrependSpace()} ([FVF]'s rule).
     *
     * @param style the prefixes and separators
     */
    public PromptBuilder(PromptStyle style) {
        this(style, "", style == null ? false : style.defaultPrependSpace());
    }

    /**
     * A builder with instructions and an explicit spacing rule.
     *
     * @param style        the prefixes and separators
     * @param instructions text put before the demonstrations, as is (Todd's {@code instructions}; "" for none)
     * @param prependSpace Todd's {@code prepend_space} (see the class comment)
     */
    public PromptBuilder(PromptStyle style, String instructions, boolean prependSpace) {
        if (style == null) {
            throw new InvalidArgumentException("style", "is null");
        }
        if (instructions == null) {
            throw new InvalidArgumentException("instructions", "is null");
        }
        this.style = style;
        this.instructions = instructions;
        this.prependSpace = prependSpace;
    }

    /**
     * The prefixes and separators.
     *
     * @return the style
     */
    public PromptStyle style() {
        return style;
    }

    /**
     * Text put before the demonstrations ("" for none).
     *
     * @return the instructions
     */
    public String instructions() {
        return instructions;
    }

    /**
     * Whether a space goes before inputs and outputs (see the class comment).
     *
     * @return Todd's {@code prepend_space}
     */
    public boolean prependSpace() {
        return prependSpace;
    }

    /**
     * Zero-shot prompt: instructions + query. With {@link PromptStyle#NONE} the text is exactly the raw input.
     *
     * @param query the query example
     * @return the prompt, its target the query's output
     */
    public Prompt zeroShot(TaskExample query) {
        return withDemos(List.of(), query);
    }

    /**
     * A {@code shots}-shot prompt whose demonstrations are drawn from {@code demosPool} without replacement, in the
     * order drawn, using {@code rng}; any pool entry equal to {@code query} is never drawn. With
     * {@code shuffledLabels} the drawn demos' outputs are then permuted among themselves with {@code rng} (Todd's
     * corrupted prompts: inputs, query and target are untouched; a permutation may leave some outputs in place).
     *
     * @param demosPool the examples demonstrations are drawn from
     * @param query the query example (never drawn as a demonstration)
     * @param shots how many demonstrations, at least 0
     * @param rng the draw (and label shuffle) randomness
     * @param shuffledLabels permute the demonstrations' outputs among themselves
     * @return the prompt, its target the query's output
     * @throws InvalidArgumentException ({@code "shots"}) when {@code shots < 0} or the pool holds fewer than
     *     {@code shots} entries other than the query (i.e. fewer than {@code shots + 1} records counting the query)
     */
    public Prompt fewShot(List<TaskExample> demosPool, TaskExample query, int shots, Random rng,
            boolean shuffledLabels) {
        if (query == null) {
            throw new InvalidArgumentException("query", "is null");
        }
        if (shots < 0) {
            throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
        }
        if (shots == 0) {
            return zeroShot(query);
        }
        if (demosPool == null) {
            throw new InvalidArgumentException("demosPool", "is null");
        }
        if (rng == null) {
            throw new InvalidArgumentException("rng", "is null");
        }
        List<TaskExample> candidates = new ArrayList<>(demosPool.size());
        for (TaskExample e : demosPool) {
            if (e != null && !e.equals(query)) {
                candidates.add(e);
            }
        }
        if (candidates.size() < shots) {
            throw new InvalidArgumentException("shots", shots + " demonstrations need " + (shots + 1)
                    + " records counting the query, but the pool has only " + candidates.size()
                    + " records other than the query");
        }
        // partial Fisher–Yates: the first `shots` slots end up a uniform sample without replacement, in draw order
        for (int i = 0; i < shots; i++) {
            int j = i + rng.nextInt(candidates.size() - i);
            TaskExample t = candidates.get(i);
            candidates.set(i, candidates.get(j));
            candidates.set(j, t);
        }
        List<TaskExample> demos = new ArrayList<>(candidates.subList(0, shots));
        if (shuffledLabels) {
            List<String> outs = new ArrayList<>(shots);
            for (TaskExample d : demos) {
                outs.add(d.output());
            }
            for (int i = outs.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                String t = outs.get(i);
                outs.set(i, outs.get(j));
                outs.set(j, t);
            }
            for (int i = 0; i < demos.size(); i++) {
                demos.set(i, new TaskExample(demos.get(i).input(), outs.get(i)));
            }
        }
        return withDemos(demos, query);
    }

    /**
     * A prompt with exactly these demonstrations, in this order (Todd's {@code create_prompt}).
     *
     * @param demos the demonstrations, in prompt order
     * @param query the query example
     * @return the prompt, its target the query's output
     */
    public Prompt withDemos(List<TaskExample> demos, TaskExample query) {
        if (query == null) {
            throw new InvalidArgumentException("query", "is null");
        }
        if (demos == null) {
            throw new InvalidArgumentException("demos", "is null");
        }
        StringBuilder sb = new StringBuilder(instructions);
        for (TaskExample d : demos) {
            sb.append(style.inputPrefix()).append(inputText(d.input())).append(style.inputSeparator());
            sb.append(style.outputPrefix()).append(targetText(d.output(), prependSpace))
                    .append(style.outputSeparator());
        }
        sb.append(style.inputPrefix()).append(inputText(query.input())).append(style.inputSeparator());
        sb.append(style.outputPrefix());
        return new Prompt(sb.toString(), targetText(query.output(), prependSpace), query, demos);
    }

    private String inputText(String input) {
        return prependSpace ? " " + input : input;
    }

    /**
     * An output as it appears in a prompt and as the target. With {@code prependSpace} (Todd): {@code ' ' + output},
     * always. Without ([FVF], method-spec §2.3): {@code "."} for an empty output, the output unchanged when it starts
     * with an ASCII digit {@code 0-9}, {@code ' ' + output} otherwise.
     *
     * @param output the example's output
     * @param prependSpace Todd's {@code prepend_space}
     * @return the output as written in prompts and targets
     */
    public static String targetText(String output, boolean prependSpace) {
        if (output == null) {
            throw new InvalidArgumentException("output", "is null");
        }
        if (prependSpace) {
            return " " + output;
        }
        if (output.isEmpty()) {
            return ".";
        }
        char c = output.charAt(0);
        return c >= '0' && c <= '9' ? output : " " + output;
    }

    /**
     * The IV authors' zero-shot SuperNI instruction prompt ([FVF] {@code DataCollatorForNI} with 0 positive and 0
     * negative examples, method-spec §4.5), without the {@code <s>} text (the BOS id is added at tokenization):
     * <pre>
     * Definition: {definition.strip()}{"." unless it ends in punctuation}\n\nNow complete the following example -\n
     * Input: {input.strip()}{"." unless it ends in punctuation}\nOutput:
     * </pre>
     * "Punctuation" is Python's {@code string.punctuation} ({@link #PYTHON_PUNCTUATION}); strip is Python's
     * {@code str.strip()} (whitespace). The target follows {@link #targetText(String, boolean) targetText(output,
     * false)} as [FVF]'s evaluation does; note the training collator instead tokenizes the label alone (Llama's
     * SentencePiece then adds a dummy-prefix space, even before a digit) and appends EOS, which is not part of the
     * target here.
     *
     * @param definition the task's SuperNI definition (not blank)
     * @param query the query example
     * @return the prompt, its target the query's output
     */
    public static Prompt superNiInstruction(String definition, TaskExample query) {
        if (definition == null || definition.isBlank()) {
            throw new InvalidArgumentException("definition", "is null or blank");
        }
        if (query == null) {
            throw new InvalidArgumentException("query", "is null");
        }
        String text = "Definition: " + withPeriod(pyStrip(definition)) + "\n\n"
                + "Now complete the following example -\n"
                + "Input: " + withPeriod(pyStrip(query.input())) + "\n"
                + "Output:";
        return new Prompt(text, targetText(query.output(), false), query, List.of());
    }

    private static String withPeriod(String s) {
        return !s.isEmpty() && PYTHON_PUNCTUATION.indexOf(s.charAt(s.length() - 1)) >= 0 ? s : s + ".";
    }

    /** Python's {@code str.strip()} with no argument: strips Unicode whitespace. */
    static String pyStrip(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && isPyWhitespace(s.charAt(b))) {
            b++;
        }
        while (e > b && isPyWhitespace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(b, e);
    }

    private static boolean isPyWhitespace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u001c' || c == '\u001d'
                || c == '\u001e' || c == '\u001f' || c == '\u0085';
    }
}
