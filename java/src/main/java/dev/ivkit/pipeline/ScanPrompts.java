package dev.ivkit.pipeline;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The two prompt sets of a head scan, sampled as {@code ivkit scan} samples them (so the CLI and the
 * {@code dev.ivkit} facade see the same prompts for the same settings):
 * <ul>
 *   <li>mean-activation prompts: clean {@code shots}-shot prompts, queries drawn with replacement from train
 *       ({@code Random(seed)}), demos from train;</li>
 *   <li>scanned prompts: the held-out queries (test, then valid, {@link TaskFiles#heldOutQueries}),
 *       {@code scanShots} demos from train ({@code Random(seed + 1)}), labels shuffled among the demos when asked.</li>
 * </ul>
 * Prompts longer than the model's context are left out and counted (scanned prompts with their teacher-forced answer).
 *
 * @param mean        tokenized mean-activation prompts that fit
 * @param meanSkipped mean-activation prompts left out as too long
 * @param scan        tokenized scanned prompts that fit
 * @param scanPrompts the scanned prompts that fit, in the order of {@code scan}
 * @param scanSkipped scanned prompts left out as too long
 */
public record ScanPrompts(List<TokenizedPrompt> mean, int meanSkipped, List<TokenizedPrompt> scan, List<Prompt> scanPrompts,
        int scanSkipped) {

    /**
     * Samples and tokenizes both sets; refuses when no prompt of a set fits the context {@code ctx}.
     *
     * @param splits      the task's split ({@link TaskFiles#split}, made for {@code max(shots, scanShots)})
     * @param shuffled    shuffle the demos' labels in the scanned prompts
     */
    public static ScanPrompts sample(Tokenizer tok, int ctx, PromptBuilder builder, Splits splits, int shots, int scanShots,
            boolean shuffled, int meanPrompts, int prompts, long seed) {
        Random meanRng = new Random(seed);
        List<TaskExample> meanQueries = new ArrayList<>();
        for (int i = 0; i < meanPrompts; i++) {
            meanQueries.add(splits.train().get(meanRng.nextInt(splits.train().size())));
        }
        List<TokenizedPrompt> meanTp = new ArrayList<>();
        int meanSkipped = tokenizeFitting(tok, TaskFiles.prompts(builder, meanQueries, splits.train(), shots, false, meanRng),
                ctx, false, meanTp, null);
        if (meanTp.isEmpty()) {
            throw new InvalidArgumentException("shots", "all " + meanPrompts + " mean-activation prompts are longer "
                    + "than the model's context of " + ctx + " tokens; use fewer --shots");
        }
        Random scanRng = new Random(seed + 1);
        List<Prompt> scanPrompts = TaskFiles.prompts(builder, TaskFiles.heldOutQueries(splits, prompts), splits.train(),
                scanShots, shuffled, scanRng);
        List<TokenizedPrompt> scanTp = new ArrayList<>();
        List<Prompt> kept = new ArrayList<>();
        int scanSkipped = tokenizeFitting(tok, scanPrompts, ctx, true, scanTp, kept);
        if (scanTp.isEmpty()) {
            throw new InvalidArgumentException("prompts", "all " + prompts + " scan prompts (prompt + answer) are "
                    + "longer than the model's context of " + ctx + " tokens; use fewer --scan-shots");
        }
        return new ScanPrompts(List.copyOf(meanTp), meanSkipped, List.copyOf(scanTp), List.copyOf(kept), scanSkipped);
    }

    /** Tokenizes the prompts, keeping those that fit the context; returns how many were skipped. */
    private static int tokenizeFitting(Tokenizer tok, List<Prompt> ps, int ctx, boolean withAnswer,
            List<TokenizedPrompt> outTp, List<Prompt> outPrompts) {
        int skipped = 0;
        for (Prompt p : ps) {
            TokenizedPrompt tp = TokenizedPrompt.of(tok, p);
            int len = withAnswer ? tp.promptIds().length + tp.targetIds().length - 1 : tp.promptIds().length;
            if (len > ctx) {
                skipped++;
                continue;
            }
            outTp.add(tp);
            if (outPrompts != null) {
                outPrompts.add(p);
            }
        }
        return skipped;
    }
}
