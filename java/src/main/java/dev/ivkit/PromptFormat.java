package dev.ivkit;

import dev.ivkit.data.prompt.PromptStyle;

/** How examples are written into prompts (the CLI's {@code --format}). */
public enum PromptFormat {
    /** {@code Q: input\nA: output} */
    QA("qa"),
    /** input and output with no prefixes */
    NONE("none"),
    /** {@code Input: input\nOutput: output} */
    IO("io"),
    /** {@code Question: input\nAnswer: output} */
    QUESTION("question");

    private final String cliName;

    PromptFormat(String cliName) {
        this.cliName = cliName;
    }

    /** @return the name the CLI's {@code --format} uses (and that provenance metadata records) */
    public String cliName() {
        return cliName;
    }

    /** @return the library's prompt style for this format */
    public PromptStyle style() {
        return dev.ivkit.pipeline.TaskFiles.style(cliName);
    }
}
