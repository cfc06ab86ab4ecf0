package dev.ivkit.iv;

import dev.ivkit.InvalidArgumentException;

/**
 * A tokenized prompt and its answer: the unit of activation statistics and scans. The logits at
 * {@link #predictPosition()} (the last prompt token) predict the first answer token.
 *
 * @param promptIds prompt ids, BOS included when the tokenizer has one
 * @param targetIds answer ids (at least one)
 */
public record PromptTokens(int[] promptIds, int[] targetIds) {
    public PromptTokens {
        if (promptIds == null || promptIds.length == 0) {
            throw new InvalidArgumentException("promptIds", "empty prompt");
        }
        if (targetIds == null || targetIds.length == 0) {
            throw new InvalidArgumentException("targetIds", "empty answer");
        }
    }

    public int predictPosition() {
        return promptIds.length - 1;
    }

    /** The teacher-forced input: prompt + every answer token but the last ([prompt + answer - 1]). */
    public long[] teacherForcedIds() {
        long[] ids = new long[promptIds.length + targetIds.length - 1];
        for (int i = 0; i < promptIds.length; i++) {
            ids[i] = promptIds[i];
        }
        for (int i = 0; i + 1 < targetIds.length; i++) {
            ids[promptIds.length + i] = targetIds[i];
        }
        return ids;
    }
}
