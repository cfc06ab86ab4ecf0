package dev.ivkit.pipeline;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.Device;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import org.bytedeco.pytorch.global.torch;

/** Opening a model with its tokenizer, as the CLI and the {@code dev.ivkit} facade both do it. */
public final class ModelFiles {
    private ModelFiles() {}

    /** A model, its tokenizer and the tokenizer's path; closing it closes both. */
    public record Opened(LlamaModel model, Tokenizer tokenizer, Path tokenizerPath) implements AutoCloseable {
        @Override
        public void close() {
            try {
                model.close();
            } finally {
                tokenizer.close();
            }
        }
    }

    /**
     * The tokenizer next to a model: tokenizer.json, tokenizer.bin, tok512.bin or tok32000.bin in its directory.
     *
     * @param howToSetOne the end of the error message when there is none (e.g. "pass --tokenizer")
     */
    public static Path defaultTokenizer(Path model, String howToSetOne) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        for (String name : new String[] {"tokenizer.json", "tokenizer.bin", "tok512.bin", "tok32000.bin"}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new InvalidArgumentException("tokenizer", "no tokenizer found next to " + model + "; " + howToSetOne);
    }

    /**
     * Checks the device (before any file is read), loads the tokenizer and the model, and checks they fit together
     * (the tokenizer's vocabulary is no larger than the model's).
     *
     * @param tokenizer the tokenizer file, or null for {@link #defaultTokenizer}
     * @param dtype     compute dtype, or null for the checkpoint's
     * @param device    where the model goes, or null for the CPU
     * @param progress  (bytes read, total) while loading, or null
     */
    public static Opened open(Path model, Path tokenizer, torch.ScalarType dtype, Device device,
            BiConsumer<Long, Long> progress, String howToSetATokenizer) {
        if (device != null) {
            device.requireAvailable();
        }
        Path tokPath = tokenizer != null ? tokenizer : defaultTokenizer(model, howToSetATokenizer);
        Tokenizer tok = Tokenizer.load(tokPath);
        LlamaModel m;
        try {
            m = ModelLoader.load(model, dtype, device, progress);
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
        if (tok.vocabSize() > m.config().vocabSize()) {
            tok.close();
            m.close();
            throw new InvalidArgumentException("tokenizer", tokPath + " has " + tok.vocabSize()
                    + " tokens but the model's vocabulary is " + m.config().vocabSize());
        }
        return new Opened(m, tok, tokPath);
    }
}
