package dev.ivkit.train;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.util.Torch;
import java.nio.file.Path;
import java.util.List;

/**
 * A training run for {@link KilledTrainingResumesTest}, in-process or as a child JVM:
 * {@code TrainChild OUT resume|fresh PAUSE_MS}. LoRA on stories260K, SST-2, 10 steps, a checkpoint every 2 steps;
 * PAUSE_MS sleeps after each step so the parent can kill the child between checkpoints.
 */
public final class TrainChild {
    static final TrainConfig CONFIG = TrainConfig.defaults().withLr(1e-2).withBatch(4, 2).withEpochs(2).withCheckpointEvery(2);

    public static void main(String[] args) {
        run(Path.of(args[0]), args[1].equals("resume"), Long.parseLong(args[2]));
    }

    static void run(Path out, boolean resume, long pauseMs) {
        Torch.init();
        Path dir = SharedData.stories260K();
        try (Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin"));
             LlamaModel m = ModelLoader.load(dir.resolve("stories260K.bin"), null);
             LoraAdapter a = LoraAdapter.create(m.config(), new LoraConfig(8, 16, 0.1, List.of("q_proj", "v_proj")), 5)) {
            List<TokenizedPrompt> train = TrainData.sst2(tok, "train", 0, 40);
            new Trainer(m, CONFIG, null, out).argsFingerprint("kill-test").stepHook((step, loss) -> {
                if (pauseMs > 0) {
                    try {
                        Thread.sleep(pauseMs);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }).train(a, train, null, resume);
        }
    }
}
