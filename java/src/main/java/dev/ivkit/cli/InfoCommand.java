package dev.ivkit.cli;

import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.util.Torch;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ivkit info --model PATH}: architecture and parameter count. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Print a model's architecture and parameter count.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "llama2.c .bin file or Hugging Face model directory")
    Path model;

    @Option(names = "--check", description = "also read every weight and check it for NaN/Inf (Hugging Face checkpoints are "
            + "otherwise described from their headers alone)")
    boolean check;

    @Override
    public Integer call() {
        Torch.init();
        ModelConfig m;
        long counted = 0;
        String dtype;
        if (ModelLoader.isHuggingFace(model) && !check) {
            // headers only: an 8B checkpoint is described without reading its 16 GB
            HfCheckpoint.Summary sum = HfCheckpoint.inspect(model);
            m = sum.config();
            counted = sum.parameters();
            dtype = String.join(", ", sum.dtypes()).toLowerCase(java.util.Locale.ROOT)
                    + String.format(" (%s in %d file%s)", sum.bytes() >= 1e9 ? String.format("%.2f GB", sum.bytes() / 1e9)
                            : String.format("%.1f MB", sum.bytes() / 1e6), sum.files(), sum.files() == 1 ? "" : "s");
        } else {
            Checkpoint c = ModelLoader.read(model);
            m = c.config();
            dtype = "?";
            for (Tensor t : c.weights().values()) {
                counted += t.numel();
                dtype = Torch.dtype(t).toString();
                t.close();
            }
        }
        System.out.printf("model:          %s%n", model);
        System.out.printf("architecture:   %s%n", m.architecture());
        System.out.printf("parameters:     %,d%n", counted);
        System.out.printf("d_model:        %d%n", m.dModel());
        System.out.printf("layers:         %d%n", m.nLayers());
        System.out.printf("heads:          %d (kv heads %d, d_head %d)%n", m.nHeads(), m.nKvHeads(), m.headDim());
        System.out.printf("mlp hidden:     %d%n", m.hiddenDim());
        System.out.printf("vocab:          %d%n", m.vocabSize());
        System.out.printf("context:        %d%n", m.maxSeqLen());
        System.out.printf("bos / eos:      %d / %s%n", m.bosId(), m.eosIds());
        System.out.printf("rope:           %s, theta %s%s%n", m.ropeStyle().name().toLowerCase(), m.ropeTheta(),
                m.ropeScaling() == null ? "" : ", scaling " + m.ropeScaling());
        System.out.printf("embeddings:     %s%n", m.tiedEmbeddings() ? "tied" : "untied");
        System.out.printf("qkv bias:       %s%n", m.attentionBias());
        System.out.printf("weights dtype:  %s%n", dtype);
        return 0;
    }
}
