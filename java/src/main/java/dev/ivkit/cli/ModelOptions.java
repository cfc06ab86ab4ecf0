package dev.ivkit.cli;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.util.Torch;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model}, {@code --tokenizer}, {@code --dtype}: shared by the commands that run a model. */
final class ModelOptions {
    @Option(names = "--model", required = true, description = "llama2.c .bin file or Hugging Face model directory")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer file (tok512.bin, tokenizer.bin, tokenizer.json); "
            + "default: next to the model")
    Path tokenizer;

    @Option(names = "--dtype", description = "fp32, bf16 or fp16 (default: the checkpoint's)")
    String dtype;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}); "
            + "cuda without a usable GPU is an error that says why")
    String device;

    Path tokenizerPath() {
        return tokenizer != null ? tokenizer : dev.ivkit.pipeline.ModelFiles.defaultTokenizer(model, "pass --tokenizer");
    }

    /**
     * Loads a model with a progress bar on stderr (in MB) when its weights are 256 MB or more.
     *
     * @param dtype  "fp32", "bf16", "fp16" or null for the checkpoint's
     * @param device "cpu", "cuda", "cuda:N" or null for the CPU
     */
    static LlamaModel loadModel(Path model, String dtype, String device) {
        dev.ivkit.model.Device where = device == null ? null : dev.ivkit.model.Device.parse(device).requireAvailable();
        return ModelLoader.load(model, dtype == null ? null : Torch.parseDtype(dtype), where, progressBar(model));
    }

    /** A progress bar on stderr (in MB) for weights of 256 MB or more, one "done" line at the end. */
    static java.util.function.BiConsumer<Long, Long> progressBar(Path model) {
        dev.ivkit.util.Progress[] bar = new dev.ivkit.util.Progress[1];
        long[] shown = {-1};
        return (done, total) -> {
            long mb = done >> 20;
            if (total < (256L << 20) || mb == shown[0] || (mb == total >> 20 && done < total)) {
                return; // small model, no visible change, or the last MB not complete yet: one "done" line only
            }
            if (bar[0] == null) {
                bar[0] = new dev.ivkit.util.Progress("loading " + model.getFileName() + " (MB)", total >> 20);
            }
            shown[0] = mb;
            bar[0].update(mb);
        };
    }

    /** Loads the tokenizer and the model and checks they fit together. */
    dev.ivkit.pipeline.ModelFiles.Opened open() {
        Torch.init();
        dev.ivkit.model.Device.parse(device).requireAvailable();  // before any file is read
        return dev.ivkit.pipeline.ModelFiles.open(model, tokenizer,
                dtype == null ? null : Torch.parseDtype(dtype), dev.ivkit.model.Device.parse(device), progressBar(model),
                "pass --tokenizer");
    }
}
