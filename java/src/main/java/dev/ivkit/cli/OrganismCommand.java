package dev.ivkit.cli;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.OrganismConfig;
import dev.ivkit.organism.SyntheticTasks;
import dev.ivkit.organism.SyntheticTasks.Kind;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ivkit organism train|info}: the self-trained model organism. */
@Command(name = "organism", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Pretrain or describe the model organism (a small Llama trained on ivkit's synthetic tasks).",
        subcommands = {OrganismCommand.Train.class, OrganismCommand.Info.class, HelpCommand.class})
final class OrganismCommand {

    @Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Pretrain the organism (resumes an interrupted run), evaluate it and cache it.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--steps", description = "optimizer steps (default ${DEFAULT-VALUE})", defaultValue = "" + OrganismConfig.DEFAULT_STEPS)
        int steps;

        @Option(names = "--minutes", description = "instead of --steps: choose the steps to train for about this long")
        double minutes;

        @Option(names = "--seed", description = "initialisation and data-order seed (default: the recipe's)")
        Long seed;

        @Option(names = "--out", description = "output folder (default: $IVKIT_CACHE/organism-v4 or ~/.cache/ivkit/organism-v4)")
        Path out;

        @Option(names = "--batch", description = "sequences per step (default: the recipe's)")
        Integer batch;

        @Option(names = "--lr", description = "peak learning rate (default: the recipe's)")
        Double lr;

        @Option(names = "--held-out-strict", description = "keep the fine-tuning tasks (rotl, prev) out of pretraining entirely "
                + "(organism-v1's recipe); by default they are pretrained as few-shot sequences only, never with their task token")
        boolean strict;

        @Override
        public Integer call() {
            if (steps <= 0 || minutes < 0) {
                throw new InvalidArgumentException("steps/minutes", "must be positive");
            }
            OrganismConfig cfg = OrganismConfig.defaults().withSteps(steps).withHeldOutInContext(!strict);
            if (seed != null) {
                cfg = cfg.withSeed(seed);
            }
            if (batch != null || lr != null) {
                cfg = cfg.withBatchAndLr(batch != null ? batch : cfg.batch(), lr != null ? lr : cfg.lr());
            }
            Path dir = out != null ? out : Organism.defaultDir();
            Organism.Info info = Organism.train(dir, cfg, minutes);
            System.out.printf("organism written to %s: %d steps in %.1f s, final loss %.4f%n", dir, info.steps(),
                    info.trainSeconds(), info.finalLoss());
            printScores(info.scores());
            return 0;
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Print the organism's recipe, size, cache folder and per-task accuracies.")
    static final class Info implements Callable<Integer> {
        @Option(names = "--out", description = "organism folder (default: the cache folder)")
        Path out;

        @Override
        public Integer call() {
            Path dir = out != null ? out : Organism.defaultDir();
            boolean exists = Organism.exists(dir);
            OrganismConfig cfg = exists ? Organism.readInfo(dir).config() : OrganismConfig.defaults();
            SyntheticTasks tasks = new SyntheticTasks(cfg.taskSeed());
            var mc = cfg.modelConfig(tasks.tokenizer().vocabSize(), tasks.tokenizer().bosId());
            System.out.printf("cache folder:   %s (%s)%n", dir, exists ? "trained" : "absent: `ivkit organism train` creates it");
            System.out.printf("model:          d %d, %d layers, %d heads (kv %d), SwiGLU %d, context %d, vocab %d%n", mc.dModel(),
                    mc.nLayers(), mc.nHeads(), mc.nKvHeads(), mc.hiddenDim(), mc.maxSeqLen(), mc.vocabSize());
            System.out.printf("parameters:     %,d%n", mc.parameterCount());
            System.out.printf("recipe:         %d steps x %d seqs x <=%d tokens, AdamW lr %.0e (warm-up %d, cosine to %.0f%%), wd %.2f, clip %.1f, seed %d, task seed %d%n",
                    cfg.steps(), cfg.batch(), cfg.trainLen(), cfg.lr(), cfg.warmupSteps(), 100 * cfg.minLrFraction(), cfg.weightDecay(),
                    cfg.clipNorm(), cfg.seed(), cfg.taskSeed());
            System.out.printf("tasks:          %s pretrained; %s held out (%s)%n", names(tasks.pretrainTasks()), names(tasks.heldOutTasks()),
                    cfg.heldOutInContext() ? "pretrained as few-shot sequences only, task token never trained" : "never pretrained");
            if (exists) {
                Organism.Info info = Organism.readInfo(dir);
                System.out.printf("training:       %d steps, %.1f s, final loss %.4f%n", info.steps(), info.trainSeconds(), info.finalLoss());
                printScores(info.scores());
            }
            return 0;
        }
    }

    private static String names(List<SyntheticTasks.Task> ts) {
        return String.join(" ", ts.stream().map(SyntheticTasks.Task::name).toList());
    }

    static void printScores(List<Organism.TaskScores> scores) {
        System.out.printf("%-10s %-7s %7s %7s %7s%n", "task", "kind", "5-shot", "instr", "bare");
        for (Organism.TaskScores s : scores) {
            System.out.printf("%-10s %-7s %7.2f %7.2f %7.2f%s%n", s.task(), s.kind().name().toLowerCase(), s.fewShot(), s.instruction(),
                    s.bare(), s.pretrain() ? "" : "  (held out: task token never trained)");
        }
        for (Kind k : new Kind[] {Kind.STRING, Kind.LOOKUP, null}) {
            System.out.printf("%-18s %7.3f %7.3f %7.3f%n", "mean " + (k == null ? "(pretrained)" : k.name().toLowerCase()),
                    Organism.mean(scores, k, Organism.TaskScores::fewShot), Organism.mean(scores, k, Organism.TaskScores::instruction),
                    Organism.mean(scores, k, Organism.TaskScores::bare));
        }
    }
}
