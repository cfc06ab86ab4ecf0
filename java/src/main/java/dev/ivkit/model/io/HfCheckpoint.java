package dev.ivkit.model.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import dev.ivkit.model.io.Safetensors.Dtype;
import dev.ivkit.model.io.Safetensors.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Hugging Face checkpoints of Llama-family models: {@code config.json} plus {@code model.safetensors}, or shards
 * listed in {@code model.safetensors.index.json}.
 */
public final class HfCheckpoint {
    /** Name of a single-file checkpoint's weights. */
    public static final String WEIGHTS = "model.safetensors";
    /** Name of a sharded checkpoint's index (weight name to shard file). */
    public static final String INDEX = "model.safetensors.index.json";

    private static final Set<Dtype> FLOAT_DTYPES = Set.of(Dtype.F32, Dtype.F16, Dtype.BF16, Dtype.F64);

    private HfCheckpoint() {}

    /**
     * {@link #load(Path, ScalarType)} keeping the file's dtype.
     *
     * @param path the model directory, a .safetensors file in it, or its index
     * @return weights under {@link WeightNames}, owned by the caller
     * @throws ModelFormatException naming the file and tensor when the checkpoint is missing, corrupt or contradicts
     *     its config
     */
    public static Checkpoint load(Path path) {
        return load(path, null);
    }

    /**
     * Loads a checkpoint and validates it against its config.json: every tensor the config implies is present with
     * the implied shape and a floating-point dtype, and no other tensor is (rotary_emb.inv_freq buffers are ignored,
     * and so is lm_head.weight when tie_word_embeddings is true, as transformers does).
     *
     * @param path  the model directory, its model.safetensors, another .safetensors file in it, or its
     *              model.safetensors.index.json
     * @param dtype convert every weight to this type, or null to keep the file's
     * @return weights under {@link WeightNames} (no lm_head when tied), as CPU tensors that belong to the caller and
     *         to no {@link PointerScope}: {@code close()} them (or let the GC) when done
     */
    public static Checkpoint load(Path path, ScalarType dtype) {
        return load(path, dtype, null);
    }

    /**
     * {@link #load(Path, ScalarType)}, telling {@code progress} the bytes read so far and the total after each
     * tensor (a progress bar for multi-gigabyte checkpoints). Tensors are read one at a time from their shard into
     * their final memory: the peak is the weights plus one tensor's finiteness check, with no second copy (unless
     * {@code dtype} converts them, which holds one tensor in both types at a time).
     *
     * @param path     the model directory, a .safetensors file in it, or its index
     * @param dtype    convert every weight to this type, or null to keep the file's
     * @param progress told (bytes read, total bytes) after each tensor, or null
     * @return weights under {@link WeightNames}, owned by the caller
     */
    public static Checkpoint load(Path path, ScalarType dtype, java.util.function.BiConsumer<Long, Long> progress) {
        return load(path, dtype, null, progress);
    }

    /**
     * As {@link #load(Path, ScalarType, java.util.function.BiConsumer)}, placing each tensor on {@code device} (null:
     * the CPU) as soon as it is read and checked: host memory holds one tensor at a time, not the checkpoint.
     *
     * @param path     the model directory, a .safetensors file in it, or its index
     * @param dtype    convert every weight to this type, or null to keep the file's
     * @param device   where the weights go, or null for the CPU
     * @param progress told (bytes read, total bytes) after each tensor, or null
     * @return weights under {@link WeightNames} on {@code device}, owned by the caller
     */
    public static Checkpoint load(Path path, ScalarType dtype, dev.ivkit.model.Device device,
            java.util.function.BiConsumer<Long, Long> progress) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        boolean ok = false;
        try (Opened o = open(path)) {
            long total = 0;
            for (String name : o.expected.keySet()) {
                total += o.where.get(name).info(name).byteSize();
            }
            long done = 0;
            for (String name : o.expected.keySet()) {
                SafetensorsFile f = o.where.get(name);
                try (PointerScope s = new PointerScope()) {
                    Tensor t = f.read(name);
                    requireFinite(f.path(), name, t);
                    if (device != null && device.isCuda()) {
                        t = t.to(device.torch(), dtype != null ? dtype : t.scalar_type().intern());
                    } else if (dtype != null && t.scalar_type().intern() != dtype.intern()) {
                        t = t.to(dtype);
                    }
                    t.retainReference();
                    weights.put(name, t);
                }
                done += f.info(name).byteSize();
                if (progress != null) {
                    progress.accept(done, total);
                }
            }
            ok = true;
            return new Checkpoint(o.cfg, weights, path);
        } finally {
            if (!ok) {
                for (Tensor t : weights.values()) {
                    t.close();
                }
            }
        }
    }

    /** NaN/Inf check in slices of at most 16M elements, so the boolean mask of a 0.5G-element embedding is not made whole. */
    private static void requireFinite(Path file, String name, Tensor t) {
        long rows = t.dim() == 0 ? 1 : t.size(0);
        long perRow = rows == 0 ? 1 : Math.max(1, t.numel() / rows);
        long step = Math.max(1, (16L << 20) / perRow);
        for (long r = 0; r < rows; r += step) {
            try (PointerScope s = new PointerScope()) {
                Tensor part = t.dim() == 0 ? t : t.narrow(0, r, Math.min(step, rows - r));
                if (!torch.isfinite(part).all().item_bool()) {
                    throw new ModelFormatException(file, name, "tensor " + name + " contains NaN or Inf");
                }
            }
        }
    }

    /**
     * What a checkpoint holds, from its config and safetensors headers only (no weight is read): validated as
     * {@link #load} validates it, with the parameter count, bytes and dtypes of the weights it would load.
     */
    public record Summary(ModelConfig config, long parameters, long bytes, java.util.SortedSet<String> dtypes, int files) {}

    /**
     * {@link Summary} of the checkpoint at {@code path} (the same paths as {@link #load}).
     *
     * @param path the model directory, a .safetensors file in it, or its index
     * @return its config, parameter count, bytes and dtypes, read from the headers only (no weight is loaded)
     */
    public static Summary inspect(Path path) {
        try (Opened o = open(path)) {
            long params = 0, bytes = 0;
            java.util.TreeSet<String> dtypes = new java.util.TreeSet<>();
            for (String name : o.expected.keySet()) {
                TensorInfo info = o.where.get(name).info(name);
                params += Arrays.stream(info.shape()).reduce(1, Math::multiplyExact);
                bytes += info.byteSize();
                dtypes.add(info.dtype().name());
            }
            return new Summary(o.cfg, params, bytes, dtypes, o.files.size());
        }
    }

    /** A checkpoint's config and open, validated shards; closing it closes the files. */
    private static final class Opened implements AutoCloseable {
        final ModelConfig cfg;
        final Map<String, long[]> expected;
        final List<SafetensorsFile> files = new ArrayList<>();
        final LinkedHashMap<String, SafetensorsFile> where = new LinkedHashMap<>();

        Opened(ModelConfig cfg) {
            this.cfg = cfg;
            this.expected = expectedShapes(cfg);
        }

        @Override
        public void close() {
            for (SafetensorsFile f : files) {
                f.close();
            }
        }
    }

    private static Opened open(Path path) {
        boolean isDir = Files.isDirectory(path);
        Path dir = isDir ? path : path.toAbsolutePath().getParent();
        // config first: a broken config is reported before missing or inconsistent weights
        ModelConfig cfg = HfConfig.read(dir.resolve(HfConfig.FILE_NAME));
        Path weightsFile = path;
        if (isDir) {
            weightsFile = Files.exists(dir.resolve(INDEX)) ? dir.resolve(INDEX) : dir.resolve(WEIGHTS);
            if (!Files.exists(weightsFile)) {
                throw new ModelFormatException(dir, null, "neither " + WEIGHTS + " nor " + INDEX + " found");
            }
        }
        Opened o = new Opened(cfg);
        boolean ok = false;
        try {
            if (weightsFile.getFileName().toString().endsWith(".index.json")) {
                indexShards(weightsFile, dir, o.files, o.where);
            } else {
                SafetensorsFile f = Safetensors.open(weightsFile);
                o.files.add(f);
                for (String n : f.names()) {
                    o.where.put(n, f);
                }
            }
            // Validate everything before reading any data.
            for (Map.Entry<String, SafetensorsFile> e : o.where.entrySet()) {
                String name = e.getKey();
                if (isIgnored(name, cfg)) {
                    continue;
                }
                SafetensorsFile f = e.getValue();
                long[] want = o.expected.get(name);
                if (want == null) {
                    throw new ModelFormatException(f.path(), name, "unexpected tensor " + name + ": not part of a "
                            + cfg.architecture() + " model as described by config.json" + describeTie(cfg, name));
                }
                TensorInfo info = f.info(name);
                if (!Arrays.equals(info.shape(), want)) {
                    throw new ModelFormatException(f.path(), name, "tensor " + name + ": shape " + Arrays.toString(info.shape())
                            + " contradicts config.json (expected " + Arrays.toString(want) + ")");
                }
                if (!FLOAT_DTYPES.contains(info.dtype())) {
                    throw new ModelFormatException(f.path(), name, "tensor " + name + ": dtype " + info.dtype()
                            + " is not a floating-point weight type");
                }
            }
            for (String name : o.expected.keySet()) {
                if (!o.where.containsKey(name)) {
                    throw new ModelFormatException(weightsFile, name, "missing tensor " + name + describeTie(cfg, name));
                }
            }
            ok = true;
            return o;
        } finally {
            if (!ok) {
                o.close();
            }
        }
    }

    private static String describeTie(ModelConfig cfg, String name) {
        if (!name.equals(WeightNames.LM_HEAD)) {
            return "";
        }
        return cfg.tiedEmbeddings() ? "" : " (config.json has tie_word_embeddings=false, so lm_head.weight is required)";
    }

    private static boolean isIgnored(String name, ModelConfig cfg) {
        return name.endsWith("rotary_emb.inv_freq") || (cfg.tiedEmbeddings() && name.equals(WeightNames.LM_HEAD));
    }

    private static void indexShards(Path index, Path dir, List<SafetensorsFile> open, Map<String, SafetensorsFile> where) {
        JsonObject root;
        try {
            JsonElement el = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8));
            if (!el.isJsonObject()) {
                throw new ModelFormatException(index, null, "not a JSON object");
            }
            root = el.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(index, null, "file not found", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ModelFormatException(index, null, "not valid UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + index + ": " + e.getMessage(), e);
        } catch (JsonParseException e) {
            throw new ModelFormatException(index, null, "not valid JSON: " + e.getMessage(), e);
        }
        JsonElement wm = root.get("weight_map");
        if (wm == null || !wm.isJsonObject()) {
            throw new ModelFormatException(index, "weight_map", "missing or non-object weight_map");
        }
        Path base = dir.toAbsolutePath().normalize();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : wm.getAsJsonObject().entrySet()) {
            String name = e.getKey();
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new ModelFormatException(index, "weight_map." + name, "shard of " + name + " is not a file name: " + v);
            }
            String shardName = v.getAsString();
            SafetensorsFile shard = shards.get(shardName);
            if (shard == null) {
                Path p = base.resolve(shardName).normalize();
                if (!p.startsWith(base) || p.equals(base)) {
                    throw new ModelFormatException(index, "weight_map." + name, "shard file " + shardName + " is outside " + base);
                }
                if (!Files.isRegularFile(p)) {
                    throw new ModelFormatException(index, shardName, "shard file " + p + " (holding " + name + ") does not exist");
                }
                shard = Safetensors.open(p);
                open.add(shard);
                shards.put(shardName, shard);
            }
            if (!shard.contains(name)) {
                throw new ModelFormatException(shard.path(), name, "tensor " + name + " is listed in " + index.getFileName()
                        + " but not present in this shard");
            }
            where.put(name, shard);
        }
    }

    /**
     * Every tensor a config implies, in the order written, with its shape ([out, in] for projections).
     *
     * @param c a model configuration
     * @return weight name to shape, in the order the checkpoint is written
     */
    public static LinkedHashMap<String, long[]> expectedShapes(ModelConfig c) {
        long d = c.dModel();
        long q = (long) c.nHeads() * c.headDim();
        long kv = (long) c.nKvHeads() * c.headDim();
        long f = c.hiddenDim();
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        m.put(WeightNames.EMBED, new long[] {c.vocabSize(), d});
        for (int l = 0; l < c.nLayers(); l++) {
            m.put(WeightNames.attnNorm(l), new long[] {d});
            m.put(WeightNames.q(l), new long[] {q, d});
            m.put(WeightNames.k(l), new long[] {kv, d});
            m.put(WeightNames.v(l), new long[] {kv, d});
            if (c.attentionBias()) {
                m.put(WeightNames.qBias(l), new long[] {q});
                m.put(WeightNames.kBias(l), new long[] {kv});
                m.put(WeightNames.vBias(l), new long[] {kv});
            }
            m.put(WeightNames.o(l), new long[] {d, q});
            m.put(WeightNames.mlpNorm(l), new long[] {d});
            m.put(WeightNames.gate(l), new long[] {f, d});
            m.put(WeightNames.up(l), new long[] {f, d});
            m.put(WeightNames.down(l), new long[] {d, f});
        }
        m.put(WeightNames.FINAL_NORM, new long[] {d});
        if (!c.tiedEmbeddings()) {
            m.put(WeightNames.LM_HEAD, new long[] {c.vocabSize(), d});
        }
        return m;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} (metadata {@code format: pt}) in Hugging Face
     * layout. An {@link RopeStyle#INTERLEAVED} checkpoint (llama2.c) has its q/k rows (and biases) permuted as
     * {@code convert_llama_weights_to_hf.py} does and is written with rotate-half style. The checkpoint must hold
     * exactly the tensors its config implies, with the implied shapes (lm_head.weight is skipped when tied).
     *
     * @param dir  the folder to write into (created when absent)
     * @param ckpt the checkpoint to write
     * @param dtype the weights' type on disk, or null to keep each tensor's
     */
    public static void write(Path dir, Checkpoint ckpt, ScalarType dtype) {
        ModelConfig cfg = ckpt.config();
        Map<String, Tensor> w = ckpt.weights();
        LinkedHashMap<String, long[]> expected = expectedShapes(cfg);
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Tensor t = w.get(e.getKey());
            if (t == null) {
                throw new InvalidArgumentException("weights", "missing tensor " + e.getKey());
            }
            long[] shape = t.sizes().vec().get();
            if (!Arrays.equals(shape, e.getValue())) {
                throw new InvalidArgumentException("weights", "tensor " + e.getKey() + " has shape " + Arrays.toString(shape)
                        + ", config implies " + Arrays.toString(e.getValue()));
            }
        }
        for (String name : w.keySet()) {
            if (!expected.containsKey(name) && !(name.equals(WeightNames.LM_HEAD) && cfg.tiedEmbeddings())) {
                throw new InvalidArgumentException("weights", "tensor " + name + " is not part of the model its config describes");
            }
        }
        if (Files.exists(dir.resolve(INDEX))) {
            throw new InvalidArgumentException("dir", dir + " holds a sharded checkpoint (" + INDEX + "); write to an empty directory");
        }
        boolean permute = cfg.ropeStyle() == RopeStyle.INTERLEAVED;
        ScalarType outType = dtype != null ? dtype : w.get(WeightNames.EMBED).scalar_type().intern();
        try (PointerScope s = new PointerScope()) {
            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            for (String name : expected.keySet()) {
                Tensor t = w.get(name);
                if (permute) {
                    int heads = ropeHeads(cfg, name);
                    if (heads > 0) {
                        t = RopePermutation.interleavedToHalf(t, heads, cfg.headDim());
                    }
                }
                if (dtype != null && t.scalar_type().intern() != dtype.intern()) {
                    t = t.to(dtype);
                }
                out.put(name, t);
            }
            Safetensors.write(dir.resolve(WEIGHTS), out, Map.of("format", "pt"));
        }
        HfConfig.write(dir, cfg.withRopeStyle(RopeStyle.HALF), outType);
    }

    /** Heads of a q/k weight or bias (whose rows RoPE pairs), or 0 for any other tensor. */
    private static int ropeHeads(ModelConfig cfg, String name) {
        if (name.endsWith(".self_attn.q_proj.weight") || name.endsWith(".self_attn.q_proj.bias")) {
            return cfg.nHeads();
        }
        if (name.endsWith(".self_attn.k_proj.weight") || name.endsWith(".self_attn.k_proj.bias")) {
            return cfg.nKvHeads();
        }
        return 0;
    }
}
