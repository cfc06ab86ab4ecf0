package dev.ivkit.examples;

import dev.ivkit.CancellationToken;
import dev.ivkit.ExtractOptions;
import dev.ivkit.ExtractResult;
import dev.ivkit.Ivkit;
import dev.ivkit.IvkitModel;
import dev.ivkit.ProgressListener;
import dev.ivkit.TrainOptions;
import dev.ivkit.TrainResult;
import java.nio.file.Path;
import java.util.List;

/** Extracts an instruction vector from stories260K, prints its top heads, then runs 20 IV-guided training steps. */
public final class EmbeddingExample {
    public static void main(String[] args) {
        Path data = Path.of(args.length > 0 ? args[0] : "../../../shared/data");   // the folder with models/ and function_vectors/
        Path model = data.resolve("models/stories260K/stories260K.bin");
        Path task = data.resolve("function_vectors/abstractive/antonym.json");

        ProgressListener progress = new ProgressListener() {
            @Override
            public void onStage(Stage stage, String detail) {
                System.out.println("[" + stage + "] " + detail);
            }

            @Override
            public void onStep(Stage stage, int step, int total, double loss) {
                if (stage == Stage.TRAIN) {
                    System.out.printf("step %2d/%d  loss %.4f%n", step, total, loss);
                }
            }
        };
        try (IvkitModel m = Ivkit.open(model);
             ExtractResult iv = m.extractIv(ExtractOptions.builder(task).shots(5).prompts(8).meanPrompts(16).heads(6).build(),
                     progress, new CancellationToken())) {
            System.out.println("top heads of the IV (layer, head, mean Δprob):");
            iv.topHeads().forEach(h -> System.out.printf("  (%d, %d)  %+.5f%n", h.layer(), h.head(), h.score()));

            TrainResult t = m.train(TrainOptions.builder(task).iv(iv.iv()).steps(20).lr(5e-3).maxSamples(8).evalSamples(16)
                    .build(), progress, new CancellationToken());          // 8 examples, 20 steps of 4 x 2: the loss must fall
            System.out.printf("held-out loss %.4f -> %.4f%n", t.evalLossBefore(), t.evalLossAfter());
            List<Double> l = t.losses();
            double first = l.subList(0, 5).stream().mapToDouble(x -> x).sum() / 5;
            double last = l.subList(15, 20).stream().mapToDouble(x -> x).sum() / 5;
            System.out.printf("mean loss of steps 1-5 %.4f, of steps 16-20 %.4f%n", first, last);
            if (!(last < first)) {
                throw new IllegalStateException("the loss did not fall: " + l);
            }
        }
    }
}
