package dev.ivkit.data.prompt;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Token ids of a {@link Prompt}: the prompt (with BOS first when the tokenizer has one) and the target. The first
 * target token is predicted by the logits at {@link #predictPosition()}. The arrays are owned by the record; do not
 * modify them (record equality compares them by reference).
 */
public record TokenizedPrompt(int[] promptIds, int[] targetIds) {
    /**
     * Checks that both id arrays are non-empty (they are not copied).
     *
     * @param promptIds the prompt's ids, BOS first when the tokenizer has one
     * @param targetIds the target's ids
     * @throws InvalidArgumentException naming an array that is null or empty
     */
    public TokenizedPrompt {
        if (promptIds == null || promptIds.length == 0) {
            throw new InvalidArgumentException("promptIds", "must hold at least one token");
        }
        if (targetIds == null || targetIds.length == 0) {
            throw new InvalidArgumentException("targetIds", "must hold at least one token");
        }
    }

    /**
     * {@code promptIds.length - 1}: the position whose logits predict {@code targetIds[0]}.
     *
     * @return the index in {@link #fullIds()} of the last prompt token
     */
    public int predictPosition() {
        return promptIds.length - 1;
    }

    /**
     * The teacher-forced input: prompt + every target token but the last (a new array).
     *
     * @return the model input that scores every target token in one forward
     */
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

    /**
     * {@code promptIds ++ targetIds} (a new array).
     *
     * @return the full sequence's ids
     */
    public int[] fullIds() {
        int[] out = Arrays.copyOf(promptIds, promptIds.length + targetIds.length);
        System.arraycopy(targetIds, 0, out, promptIds.length, targetIds.length);
        return out;
    }

    /**
     * {@link #of(Tokenizer, String, String) of(tokenizer, prompt.text(), prompt.target())}.
     *
     * @param tokenizer the model's tokenizer
     * @param prompt the prompt to tokenize
     * @return prompt and target ids
     */
    public static TokenizedPrompt of(Tokenizer tokenizer, Prompt prompt) {
        if (prompt == null) {
            throw new InvalidArgumentException("prompt", "is null");
        }
        return of(tokenizer, prompt.text(), prompt.target());
    }

    /**
     * Tokenizes {@code text + target} and {@code text} alone (both with BOS when the tokenizer has one). When the
     * full ids start with the prompt ids, the target ids are the rest — the usual case, and exactly the tokens the
     * model sees for the full sequence. Otherwise a token merges across the boundary (e.g. prompt {@code "the ca"},
     * target {@code "t"}); then the prompt ids are kept and the target is tokenized on its own, trying in order:
     * <ol>
     *   <li>{@code encode(target)};
     *   <li>{@code encode("\n" + target)} minus the ids of {@code encode("\n")} — this undoes the dummy-prefix space
     *       that SentencePiece-style tokenizers (llama2.c's {@code tok512.bin}, Llama's tokenizer) put before any
     *       non-empty text, which would otherwise turn {@code "t"} into {@code " t"} or {@code " cold"} into
     *       {@code "  cold"};
     *   <li>when the target starts with a space, {@code encode(target without it)}, letting the dummy prefix supply
     *       that space.
     * </ol>
     * The first candidate for which {@code decode(promptIds ++ candidate)} equals {@code decode(full ids)} is used, so
     * {@code promptIds ++ targetIds} always decodes to the same text as the whole sequence and {@code targetIds[0]} is
     * the first target token the model is scored on.
     *
     * @param tokenizer the model's tokenizer
     * @param text the prompt text
     * @param target the target text (not empty)
     * @return prompt and target ids whose concatenation decodes to {@code text + target}
     * @throws InvalidArgumentException ({@code "target"}) when the target is empty, ({@code "text"}) when the prompt
     *     tokenizes to nothing (empty text and no BOS)
     * @throws IvkitException when no candidate reproduces the text (not seen with llama2.c or GPT-2 tokenizers)
     */
    public static TokenizedPrompt of(Tokenizer tokenizer, String text, String target) {
        if (tokenizer == null) {
            throw new InvalidArgumentException("tokenizer", "is null");
        }
        if (text == null) {
            throw new InvalidArgumentException("text", "is null");
        }
        if (target == null || target.isEmpty()) {
            throw new InvalidArgumentException("target", "is empty: nothing to predict");
        }
        int[] p = tokenizer.encode(text, true);
        if (p.length == 0) {
            throw new InvalidArgumentException("text", "prompt tokenizes to no tokens (empty text, no BOS)");
        }
        int[] full = tokenizer.encode(text + target, true);
        if (full.length > p.length && startsWith(full, p)) {
            return new TokenizedPrompt(p, Arrays.copyOfRange(full, p.length, full.length));
        }
        String expected = tokenizer.decode(full);
        int[][] candidates = new int[3][];
        candidates[0] = tokenizer.encode(target, false);
        int[] sentinel = tokenizer.encode("\n", false);
        int[] withSentinel = tokenizer.encode("\n" + target, false);
        if (withSentinel.length > sentinel.length && startsWith(withSentinel, sentinel)) {
            candidates[1] = Arrays.copyOfRange(withSentinel, sentinel.length, withSentinel.length);
        }
        if (target.length() > 1 && target.charAt(0) == ' ') {
            candidates[2] = tokenizer.encode(target.substring(1), false);
        }
        for (int[] c : candidates) {
            if (c != null && c.length > 0) {
                TokenizedPrompt t = new TokenizedPrompt(p, c);
                if (tokenizer.decode(t.fullIds()).equals(expected)) {
                    return t;
                }
            }
        }
        throw new IvkitException("cannot tokenize target " + quote(target) + " apart from its prompt: no split of the "
                + "ids decodes back to the prompt + target text");
    }

    private static boolean startsWith(int[] a, int[] prefix) {
        if (a.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (a[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static String quote(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return "\"" + t.replace("\n", "\\n") + "\"";
    }

    @Override
    public String toString() {
        return "TokenizedPrompt[promptIds=" + Arrays.toString(promptIds) + ", targetIds=" + Arrays.toString(targetIds)
                + "]";
    }
}
