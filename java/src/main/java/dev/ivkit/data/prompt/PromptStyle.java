package dev.ivkit.data.prompt;

/**
 * The prefix/separator templates of Todd et al.'s {@code word_pairs_to_prompt_data} as selected by [FVF]'s
 * {@code --prefixes_type}/{@code --separators_type} (both set to the same letter here). A prompt is
 * {@code instructions + Σ_demos(inPrefix + x + inSep + outPrefix + y + outSep) + inPrefix + x_q + inSep + outPrefix}.
 * The instructions prefix and separator are empty in every style.
 */
public enum PromptStyle {
    /** {@code Q:}/{@code A:}, input separator {@code "\n"}, output separator {@code "\n\n"} (Todd's default). */
    QA("Q:", "A:", "\n", "\n\n"),
    /** [FVF]'s {@code N}/{@code N}: empty prefixes, empty input separator, output separator {@code "\n\n"}. */
    NONE("", "", "", "\n\n"),
    /** {@code I}: {@code Input:}/{@code Output:}, separators {@code "\n"} / {@code "\n\n"}. */
    INPUT_OUTPUT("Input:", "Output:", "\n", "\n\n"),
    /** Any other letter: {@code Question:}/{@code Answer:}, separators {@code "\n"} / {@code "\n\n"}. */
    QUESTION_ANSWER("Question:", "Answer:", "\n", "\n\n");

    private final String inputPrefix;
    private final String outputPrefix;
    private final String inputSeparator;
    private final String outputSeparator;

    PromptStyle(String inputPrefix, String outputPrefix, String inputSeparator, String outputSeparator) {
        this.inputPrefix = inputPrefix;
        this.outputPrefix = outputPrefix;
        this.inputSeparator = inputSeparator;
        this.outputSeparator = outputSeparator;
    }

    /**
     * Text before each input, e.g. {@code "Q:"}.
     *
     * @return the input prefix
     */
    public String inputPrefix() {
        return inputPrefix;
    }

    /**
     * Text before each output, e.g. {@code "A:"}.
     *
     * @return the output prefix
     */
    public String outputPrefix() {
        return outputPrefix;
    }

    /**
     * Text between an input and its output's prefix.
     *
     * @return the input separator
     */
    public String inputSeparator() {
        return inputSeparator;
    }

    /**
     * Text after each demonstration's output.
     *
     * @return the output separator
     */
    public String outputSeparator() {
        return outputSeparator;
    }

    /**
     * [FVF]'s rule: {@code prepend_space} is true unless the input prefix is empty (so {@link #NONE} gives
     * {@code false} and a zero-shot prompt is exactly the raw input). Todd's own code keeps {@code prepend_space=True}
     * for every style; pass it explicitly to {@link PromptBuilder#PromptBuilder(PromptStyle, String, boolean)} to get
     * that.
     *
     * @return whether a space goes before inputs and outputs under [FVF]'s rule
     */
    public boolean defaultPrependSpace() {
        return !inputPrefix.isEmpty();
    }
}
