package dev.ivkit.model;

import dev.ivkit.ModelFormatException;
import dev.ivkit.model.io.Llama2cCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch;

/** Opens a model from a path: a llama2.c .bin file, or a Hugging Face directory (config.json + safetensors). */
public final class ModelLoader {
    private ModelLoader() {}

    /**
     * Whether {@code path} names a Hugging Face checkpoint (a directory, a .safetensors file or a config.json).
     *
     * @param path a file or directory
     * @return true for a directory, a .safetensors file, config.json or a shard index
     */
    public static boolean isHuggingFace(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        return Files.isDirectory(path) || name.endsWith(".safetensors") || name.equals("config.json")
                || name.endsWith(".index.json");
    }

    /**
     * Reads the checkpoint without building a model.
     *
     * @param path a llama2.c {@code .bin} file or a Hugging Face checkpoint
     * @return the configuration and weights, owned by the caller
     */
    public static Checkpoint read(Path path) {
        return read(path, null);
    }

    /**
     * Reads the checkpoint, telling {@code progress} (bytes read, total bytes) as Hugging Face shards are read; a
     * llama2.c file is read in one go. {@code progress} may be null.
     *
     * @param path     a llama2.c {@code .bin} file or a Hugging Face checkpoint
     * @param progress told (bytes read, total bytes), or null
     * @return the configuration and weights, owned by the caller
     */
    public static Checkpoint read(Path path, java.util.function.BiConsumer<Long, Long> progress) {
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, null, "no such file or directory");
        }
        if (isHuggingFace(path)) {
            return dev.ivkit.model.io.HfCheckpoint.load(path, null, progress);
        }
        return Llama2cCheckpoint.load(path);
    }

    /**
     * @param path  a llama2.c {@code .bin} file or a Hugging Face checkpoint
     * @param dtype compute dtype (null keeps the file's)
     * @return the model, on the CPU
     */
    public static LlamaModel load(Path path, torch.ScalarType dtype) {
        return load(path, dtype, null);
    }

    /**
     * {@link #load(Path, torch.ScalarType)} with a progress callback (bytes read, total) as in {@link #read(Path,
     * java.util.function.BiConsumer)}.
     *
     * @param path     a llama2.c {@code .bin} file or a Hugging Face checkpoint
     * @param dtype    compute dtype (null keeps the file's)
     * @param progress told (bytes read, total bytes), or null
     * @return the model, on the CPU
     */
    public static LlamaModel load(Path path, torch.ScalarType dtype, java.util.function.BiConsumer<Long, Long> progress) {
        return load(path, dtype, null, progress);
    }

    /**
     * Loads a model onto {@code device} (null: the CPU): a CUDA device is checked first (a clear error when there is
     * none), and Hugging Face weights go to it tensor by tensor in their dtype, with no full host copy.
     *
     * @param path     a llama2.c {@code .bin} file or a Hugging Face checkpoint
     * @param dtype    compute dtype (null keeps the file's)
     * @param device   where the model goes, or null for the CPU
     * @param progress told (bytes read, total bytes), or null
     * @return the model
     */
    public static LlamaModel load(Path path, torch.ScalarType dtype, Device device,
            java.util.function.BiConsumer<Long, Long> progress) {
        if (device != null) {
            device.requireAvailable();
        }
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, null, "no such file or directory");
        }
        Checkpoint c = isHuggingFace(path) ? dev.ivkit.model.io.HfCheckpoint.load(path, dtype, device, progress) : read(path, progress);
        return new LlamaModel(c.config(), c.weights(), dtype, device);
    }
}
