package dev.ivkit.demo;

import dev.ivkit.PatchMode;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.iv.ScanValidity;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.SyntheticTasks;
import dev.ivkit.organism.SyntheticTasks.Task;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Whether a head scan of an organism task can mean anything (a measurement beside stage 2; it does not change which IV
 * the demo builds). The mean head outputs come from clean 5-shot prompts; the scan patches them (REPLACE, exact, at the
 * last token) into corrupted prompts of the same queries, in two designs: Todd et al.'s, the same 5 demonstrations with
 * their outputs shuffled among them ({@code shuffled}), and the bare 0-shot prompt ({@code zero-shot}). Each gives a
 * {@link ScanFile} with the clean and corrupted greedy first-token accuracy and each head's bootstrap interval.
 *
 * @param tasks the organism's tasks
 * @param tok   its tokenizer
 * @param prompts queries per task (each in a clean and a corrupted prompt)
 */
record ScanValidityStage(SyntheticTasks tasks, CharTokenizer tok, int prompts) {
    /** The two corrupted-prompt designs, in the order {@link #scan} returns them. */
    static final List<String> DESIGNS = List.of("shuffled", "zero-shot");

    /** Both designs' scans of task {@code t} on {@code model}. */
    List<ScanFile> scan(LlamaModel model, Task t) {
        List<TaskExample> pool = tasks.dataset(t, false, 64, Demo.IV_SEED + 100).examples();
        List<TaskExample> queries = tasks.dataset(t, false, prompts, Demo.IV_SEED + 101).examples();
        Random r = new Random(Demo.IV_SEED * 17 + t.name().hashCode());
        List<TokenizedPrompt> clean = new ArrayList<>(), shuffled = new ArrayList<>(), zero = new ArrayList<>();
        for (TaskExample q : queries) {
            List<TaskExample> demos = new ArrayList<>(pool);
            demos.remove(q);
            Collections.shuffle(demos, r);
            demos = demos.subList(0, Organism.SHOTS);
            List<String> outs = new ArrayList<>(demos.stream().map(TaskExample::output).toList());
            Collections.shuffle(outs, r);
            List<TaskExample> wrong = new ArrayList<>();
            for (int i = 0; i < demos.size(); i++) {
                wrong.add(new TaskExample(demos.get(i).input(), outs.get(i)));
            }
            clean.add(TokenizedPrompt.of(tok, SyntheticTasks.fewShot(demos, q)));
            shuffled.add(TokenizedPrompt.of(tok, SyntheticTasks.fewShot(wrong, q)));
            zero.add(TokenizedPrompt.of(tok, SyntheticTasks.bare(q)));
        }
        try (PointerScope s = new PointerScope()) {
            Tensor meanZ = MeanActivations.compute(model, clean, 8);
            double cleanAcc = ScanValidity.accuracy(model, clean, 16);
            List<ScanFile> out = new ArrayList<>();
            for (int d = 0; d < DESIGNS.size(); d++) {
                List<TokenizedPrompt> corrupted = d == 0 ? shuffled : zero;
                ScanScores sc = new CieScan(model, meanZ, PatchMode.REPLACE).scan(corrupted, ScanMethod.EXACT, null);
                ScanValidity.Interval ci = ScanValidity.bootstrap(Arrays.asList(sc.dProb()), ScanValidity.RESAMPLES, Demo.IV_SEED);
                out.add(ScanFile.validity(t.name(), "exact", "replace", DESIGNS.get(d), d == 0 ? Organism.SHOTS : 0,
                        corrupted.size(), clean.size(), sc.meanDProb(),
                        sc.meanDNll(), cleanAcc, ScanValidity.accuracy(model, corrupted, 16), ci.low(), ci.high()));
            }
            return out;
        }
    }

    /** One table row: the task, then per design corrupted accuracy, max CIE (head) and the count of significant heads. */
    static String row(String task, List<ScanFile> scans) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-10s clean %.2f", task, scans.get(0).cleanAccuracy()));
        for (int d = 0; d < scans.size(); d++) {
            ScanFile f = scans.get(d);
            HeadRanking.Head top = HeadRanking.top(f.cie(), 1).get(0);
            int sig = new ScanValidity.Interval(f.cieCiLow(), f.cieCiHigh()).significant().size();
            sb.append(String.format(Locale.ROOT, " | %s: corrupted %.2f, max CIE %+.3f (L%dH%d), %d significant", DESIGNS.get(d),
                    f.corruptedAccuracy(), top.score(), top.layer(), top.head(), sig));
        }
        return sb.toString();
    }
}
