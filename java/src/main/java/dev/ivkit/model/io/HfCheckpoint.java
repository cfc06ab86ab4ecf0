package dev.ivkit.model.io;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import dev.ivkit.model.io.Safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
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
        try (OpenedCheckpoint o = OpenedCheckpoint.open(path)) {
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
        try (OpenedCheckpoint o = OpenedCheckpoint.open(path)) {
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
