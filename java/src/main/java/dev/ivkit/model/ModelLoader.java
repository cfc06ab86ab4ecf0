package dev.ivkit.model;

import dev.ivkit.ModelFormatException;
import dev.ivkit.model.io.Llama2cCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch;

/** Opens a model from a path: a llama2.c .bin file, or a Hugging Face directory (config.json + safetensors). */
public final class ModelLoader {
    private ModelLoader() {}

    /** Reads the checkpoint without building a model. */
    public static Checkpoint read(Path path) {
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, null, "no such file or directory");
        }
        if (Files.isDirectory(path) || path.getFileName().toString().endsWith(".safetensors")
                || path.getFileName().toString().equals("config.json")) {
            return dev.ivkit.model.io.HfCheckpoint.load(path);
        }
        return Llama2cCheckpoint.load(path);
    }

    /**
     * @param dtype compute dtype (null keeps the file's)
     */
    public static LlamaModel load(Path path, torch.ScalarType dtype) {
        Checkpoint c = read(path);
        return new LlamaModel(c.config(), c.weights(), dtype);
    }
}
