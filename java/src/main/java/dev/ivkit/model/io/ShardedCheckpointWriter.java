package dev.ivkit.model.io;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Writes a Hugging Face checkpoint in shards ({@code model-00001-of-0000N.safetensors} + {@code
 * model.safetensors.index.json} + {@code config.json}), asking for the tensors one shard at a time, so a model far
 * larger than memory can be written (random-weight checkpoints of 8B shapes, conversions). Each shard is written
 * atomically; the index and config.json come last, so an interrupted write leaves no loadable half-checkpoint.
 */
public final class ShardedCheckpointWriter {
    private ShardedCheckpointWriter() {}

    /**
     * @param dir           an empty or new directory
     * @param cfg           the model (rotate-half RoPE: Hugging Face layout)
     * @param dtype         the weights' type on disk
     * @param maxShardBytes a shard holds tensors up to this many bytes (a larger tensor gets a shard of its own)
     * @param tensorOf      the tensor of a name (shapes as {@link HfCheckpoint#expectedShapes}); called once per
     *                      name, inside a scope that is closed when its shard is written
     * @param bytesWritten  told the running byte count after each shard (progress), or null
     * @return the shard files, in order
     */
    public static List<Path> write(Path dir, ModelConfig cfg, ScalarType dtype, long maxShardBytes,
            Function<String, Tensor> tensorOf, LongConsumer bytesWritten) {
        if (cfg.ropeStyle() != RopeStyle.HALF) {
            throw new InvalidArgumentException("cfg", "Hugging Face checkpoints use rotate-half RoPE; permute first (HfCheckpoint.write)");
        }
        if (maxShardBytes <= 0) {
            throw new InvalidArgumentException("maxShardBytes", "must be positive, got " + maxShardBytes);
        }
        Safetensors.Dtype d = Safetensors.Dtype.of(dtype);
        if (d == null) {
            throw new InvalidArgumentException("dtype", "cannot write " + dtype + " to safetensors");
        }
        LinkedHashMap<String, long[]> shapes = HfCheckpoint.expectedShapes(cfg);
        List<List<String>> shards = new ArrayList<>();
        long size = 0;
        long total = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = Arrays.stream(e.getValue()).reduce(1, Math::multiplyExact) * d.itemSize;
            if (shards.isEmpty() || size > 0 && size + bytes > maxShardBytes) {
                shards.add(new ArrayList<>());
                size = 0;
            }
            shards.get(shards.size() - 1).add(e.getKey());
            size += bytes;
            total += bytes;
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        for (String f : new String[] {HfCheckpoint.INDEX, HfCheckpoint.WEIGHTS, HfConfig.FILE_NAME}) {
            if (Files.exists(dir.resolve(f))) {
                throw new InvalidArgumentException("dir", dir + " already holds " + f + "; write to an empty directory");
            }
        }
        JsonObject weightMap = new JsonObject();
        List<Path> files = new ArrayList<>();
        long written = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path file = dir.resolve(name);
            try (PointerScope s = new PointerScope()) {
                LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
                for (String t : shards.get(i)) {
                    Tensor x = tensorOf.apply(t);
                    long[] shape = x.sizes().vec().get();
                    if (!Arrays.equals(shape, shapes.get(t))) {
                        throw new InvalidArgumentException("tensorOf", "tensor " + t + " has shape " + Arrays.toString(shape)
                                + ", config implies " + Arrays.toString(shapes.get(t)));
                    }
                    out.put(t, x.scalar_type().intern() == dtype.intern() ? x : x.to(dtype));
                    weightMap.addProperty(t, name);
                }
                Safetensors.write(file, out, Map.of("format", "pt"));
                for (Tensor x : out.values()) {
                    written += x.numel() * d.itemSize;
                }
            }
            files.add(file);
            if (bytesWritten != null) {
                bytesWritten.accept(written);
            }
        }
        JsonObject index = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", total);
        index.add("metadata", meta);
        index.add("weight_map", weightMap);
        AtomicFiles.write(dir.resolve(HfCheckpoint.INDEX),
                (new GsonBuilder().setPrettyPrinting().create().toJson(index) + "\n").getBytes(StandardCharsets.UTF_8));
        HfConfig.write(dir, cfg, dtype);
        return files;
    }
}
