package dev.ivkit;

import dev.ivkit.model.Device;
import dev.ivkit.pipeline.ModelFiles;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.util.Torch;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The library's entry point: open a model, then find the instruction vector of a task and fine-tune with or
 * without IV guidance through the returned {@link IvkitModel}.
 *
 * <pre>{@code
 * try (IvkitModel model = Ivkit.open(Path.of("stories260K.bin"))) {
 *     try (ExtractResult r = model.extractIv(ExtractOptions.builder(Path.of("antonym.json")).build())) {
 *         System.out.println(r.topHeads());
 *         TrainResult t = model.train(TrainOptions.builder(Path.of("antonym.json")).iv(r.iv()).steps(20).build());
 *     }
 * }
 * }</pre>
 *
 * Nothing in this package prints, exits the JVM or reads the network ({@link #open} sets the system properties
 * {@code ai.djl.offline} and {@code OPT_OUT_TRACKING} to true unless the embedder set them); progress goes to a {@link ProgressListener},
 * errors are {@link IvkitException}s ({@link InvalidArgumentException} names the setting at fault).
 */
public final class Ivkit {
    private Ivkit() {}

    /**
     * Prepares libtorch the way {@link #open} does (its intra-op thread count: 1, or {@code IVKIT_THREADS}) and the
     * no-network properties. Building-block users who load models with {@code ModelLoader} call it once first;
     * idempotent and thread-safe.
     */
    public static void init() {
        offline();
        Torch.init();
    }

    /** No network, ever: DJL's tokenizers library phones home unless told otherwise before its classes load. */
    private static void offline() {
        // an embedder's own setting wins
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    /**
     * Opens a model with the default {@link OpenOptions} (checkpoint dtype, tokenizer next to the model, CPU).
     *
     * @param model a llama2.c {@code .bin} file or a Hugging Face model directory
     * @return the open model; close it to free its native memory
     */
    public static IvkitModel open(Path model) {
        return open(model, OpenOptions.defaults());
    }

    /**
     * Opens a model and its tokenizer and checks they fit together (the tokenizer's vocabulary must not exceed the
     * model's).
     *
     * @param model   a llama2.c {@code .bin} file or a Hugging Face model directory
     * @param options dtype, tokenizer, device
     * @return the open model; close it to free its native memory
     */
    public static IvkitModel open(Path model, OpenOptions options) {
        if (model == null) {
            throw new InvalidArgumentException("model", "no model path given");
        }
        offline();
        if (!Files.exists(model)) {
            throw new ModelFormatException(model, null, "no such file or directory");
        }
        Torch.init();
        Device device = Device.parse(options.device()).requireAvailable();  // before any file is read
        ModelFiles.Opened o = ModelFiles.open(model, options.tokenizer(),
                options.dtype() == null ? null : Torch.parseDtype(options.dtype().cliName()), device, null,
                "set one with OpenOptions.builder().tokenizer(path)");
        return new IvkitModel(model, o.model(), o.tokenizer(), o.tokenizerPath());
    }
}
