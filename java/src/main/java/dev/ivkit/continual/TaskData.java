package dev.ivkit.continual;

import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.PromptStyle;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One task of a sequence, loaded and capped: the first {@code train_cap} / {@code test_cap} examples of its splits
 * (file order), inputs cut to {@code max_input_chars} and further (by quarters) until prompt + answer fit the model's
 * context; training targets cut to {@code max_target_tokens}. Prompts: {@code superni} = the IV authors' zero-shot
 * "Definition: … Input: … Output:" format (method-spec §4.5), {@code io} = "Input: x\nOutput: y" without the
 * definition (for tiny models). The knowledge probe pairs a bare "Input:/Output:" prompt with the definition prompt.
 */
public final class TaskData {
    public final SequenceSpec.Task task;
    public final String definition;
    public final List<TokenizedPrompt> train;
    public final List<TokenizedPrompt> ivPrompts;
    public final List<Prompt> test;
    public final List<Prompt> probeBare;
    public final List<Prompt> probeInstructed;

    private TaskData(SequenceSpec.Task task, String definition, List<TokenizedPrompt> train, List<TokenizedPrompt> ivPrompts,
            List<Prompt> test, List<Prompt> probeBare, List<Prompt> probeInstructed) {
        this.task = task;
        this.definition = definition;
        this.train = train;
        this.ivPrompts = ivPrompts;
        this.test = test;
        this.probeBare = probeBare;
        this.probeInstructed = probeInstructed;
    }

    public static TaskData load(SequenceSpec spec, SequenceSpec.Task t, Path dataRoot, Tokenizer tok, int maxSeqLen) {
        Path instr = dataRoot.resolve(spec.instructions);
        TaskDataset testDs = read(t.test, dataRoot, instr);
        TaskDataset trainDs = read(t.train, dataRoot, instr);
        String def = testDs.instruction().orElse(trainDs.instruction().orElse("Complete the example."));
        PromptBuilder io = new PromptBuilder(PromptStyle.INPUT_OUTPUT, "", true);
        java.util.function.Function<TaskExample, Prompt> fmt = "io".equals(spec.prompt) ? io::zeroShot
                : e -> PromptBuilder.superNiInstruction(def, e);
        List<TokenizedPrompt> train = new ArrayList<>();
        for (TaskExample e : first(trainDs.examples(), t.trainCap(spec))) {
            TokenizedPrompt tp = TokenizedPrompt.of(tok, fmt.apply(fit(e, fmt, tok, spec, maxSeqLen)));
            int n = Math.min(tp.targetIds().length, spec.maxTargetTokens);
            train.add(new TokenizedPrompt(tp.promptIds(), Arrays.copyOf(tp.targetIds(), n)));
        }
        List<TokenizedPrompt> iv = new ArrayList<>(train.subList(0, Math.min(spec.ivPrompts, train.size())));
        List<Prompt> test = new ArrayList<>(), bare = new ArrayList<>(), instructed = new ArrayList<>();
        for (TaskExample e : first(testDs.examples(), t.testCap(spec))) {
            test.add(fmt.apply(fit(e, fmt, tok, spec, maxSeqLen)));
        }
        for (TaskExample e : first(testDs.examples(), Math.min(spec.probeCap, t.testCap(spec)))) {
            java.util.function.Function<TaskExample, Prompt> withDef = x -> PromptBuilder.superNiInstruction(def, x);
            TaskExample f = fit(fit(e, withDef, tok, spec, maxSeqLen), io::zeroShot, tok, spec, maxSeqLen);
            bare.add(io.zeroShot(f));
            instructed.add(withDef.apply(f));
        }
        return new TaskData(t, def, train, iv, test, bare, instructed);
    }

    private static TaskDataset read(SequenceSpec.Source s, Path root, Path instr) {
        return "sapo".equals(s.format) ? TaskDataset.loadSuperNiSapo(root.resolve(s.path), s.split, instr)
                : TaskDataset.loadSuperNiOriginal(root.resolve(s.path));
    }

    private static List<TaskExample> first(List<TaskExample> all, int cap) {
        return all.subList(0, Math.min(cap, all.size()));
    }

    /** The example with its input cut so that the whole prompt + answer fits {@code maxSeqLen} tokens. */
    static TaskExample fit(TaskExample e, java.util.function.Function<TaskExample, Prompt> fmt, Tokenizer tok, SequenceSpec spec,
            int maxSeqLen) {
        String in = e.input().length() > spec.maxInputChars ? e.input().substring(0, spec.maxInputChars) : e.input();
        String out = e.output();
        while (true) {
            TaskExample x = new TaskExample(in, out);
            TokenizedPrompt tp = TokenizedPrompt.of(tok, fmt.apply(x));
            if (tp.promptIds().length + tp.targetIds().length <= maxSeqLen) {
                return x;
            }
            if (in.length() > 16) {
                in = in.substring(0, in.length() * 3 / 4);
            } else {
                out = out.substring(0, Math.max(1, out.length() * 3 / 4));   // only for absurdly long answers
            }
        }
    }
}
