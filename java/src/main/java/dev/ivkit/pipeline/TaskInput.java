package dev.ivkit.pipeline;

import dev.ivkit.ProgressListener;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A loaded task, split with its seed, and the prompt format its prompts are written in: the input of
 * {@link Evaluation} and {@link Probing}.
 *
 * @param file   the task file or folder, as given (recorded as {@code task_file})
 * @param data   the task's records
 * @param splits the seeded train / valid / test split
 * @param format the prompt format's CLI name (qa, none, io, question)
 * @param seed   the seed of the split and of the prompt sampling
 */
public record TaskInput(Path file, TaskDataset data, Splits splits, String format, long seed) {
    /**
     * Loads and splits a task ({@link TaskFiles#load}, {@link TaskFiles#split}), checking the format first.
     *
     * @param file         function-vector JSON file, SuperNI task file, or SAPO SuperNI task folder
     * @param split        SAPO task folders only: the file read (train, dev, test)
     * @param instructions SAPO task folders only: instructions.json, or null for the one in the folder's parent
     * @param format       prompt format (qa, none, io, question)
     * @param seed         seed of the split and of the prompt sampling
     * @param shots        demonstrations a prompt will draw from the train split (the split refuses too small a task)
     * @return the task
     */
    public static TaskInput load(Path file, String split, Path instructions, String format, long seed, int shots) {
        TaskFiles.style(format);
        TaskDataset data = TaskFiles.load(file, split, instructions);
        return new TaskInput(file, data, TaskFiles.split(data, shots, seed), format, seed);
    }

    /** @return a prompt builder in this task's format */
    public PromptBuilder builder() {
        return new PromptBuilder(TaskFiles.style(format));
    }

    /**
     * @param count queries asked for
     * @return held-out queries (test then valid), at most as many as there are
     */
    List<TaskExample> heldOut(int count) {
        return TaskFiles.heldOutQueries(splits, Math.min(count, splits.test().size() + splits.valid().size()));
    }

    /**
     * Indices of the prompts that fit the context in every list ({@link TaskFiles#fitting}); how many were left out
     * goes to {@code listener} as a message.
     *
     * @param tok      the model's tokenizer
     * @param ctx      the model's context, in tokens
     * @param extra    tokens generated after each prompt
     * @param lists    prompt lists of the same length, index by index the same example
     * @param listener told how many examples were left out, when any was
     * @return the indices kept, in order
     */
    public static List<Integer> fitting(Tokenizer tok, int ctx, int extra, List<List<Prompt>> lists, ProgressListener listener) {
        List<Integer> keep = TaskFiles.fitting(tok, ctx, extra, lists);
        int n = lists.get(0).size();
        if (keep.size() < n) {
            listener.onMessage("skipped " + (n - keep.size()) + " of " + n
                    + " examples whose prompts are longer than the context (" + ctx + " tokens)");
        }
        return keep;
    }

    static <T> List<T> select(List<T> xs, List<Integer> idx) {
        List<T> out = new ArrayList<>(idx.size());
        for (int i : idx) {
            out.add(xs.get(i));
        }
        return out;
    }
}
