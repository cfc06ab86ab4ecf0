package dev.ivkit.model.io;

import dev.ivkit.ModelFormatException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.WeightNames;
import dev.ivkit.model.io.Safetensors.Dtype;
import dev.ivkit.model.io.Safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face checkpoint's config and open, validated safetensors files (one file, or the shards its index
 * lists), from headers only: what {@link HfCheckpoint#load} reads from and {@link HfCheckpoint#inspect} sums up.
 * Closing it closes the files.
 */
final class OpenedCheckpoint implements AutoCloseable {
    private static final Set<Dtype> FLOAT_DTYPES = Set.of(Dtype.F32, Dtype.F16, Dtype.BF16, Dtype.F64);

    final ModelConfig cfg;
    final Map<String, long[]> expected;
    final List<SafetensorsFile> files = new ArrayList<>();
    final LinkedHashMap<String, SafetensorsFile> where = new LinkedHashMap<>();

    private OpenedCheckpoint(ModelConfig cfg) {
        this.cfg = cfg;
        this.expected = HfCheckpoint.expectedShapes(cfg);
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files) {
            f.close();
        }
    }

    /**
     * Opens the checkpoint at {@code path} (its directory, a .safetensors file in it, or its index) and checks every
     * tensor's name, shape and dtype against the config before any data is read.
     */
    static OpenedCheckpoint open(Path path) {
        boolean isDir = Files.isDirectory(path);
        Path dir = isDir ? path : path.toAbsolutePath().getParent();
        // config first: a broken config is reported before missing or inconsistent weights
        ModelConfig cfg = HfConfig.read(dir.resolve(HfConfig.FILE_NAME));
        Path weightsFile = path;
        if (isDir) {
            weightsFile = Files.exists(dir.resolve(HfCheckpoint.INDEX)) ? dir.resolve(HfCheckpoint.INDEX)
                    : dir.resolve(HfCheckpoint.WEIGHTS);
            if (!Files.exists(weightsFile)) {
                throw new ModelFormatException(dir, null, "neither " + HfCheckpoint.WEIGHTS + " nor " + HfCheckpoint.INDEX
                        + " found");
            }
        }
        OpenedCheckpoint o = new OpenedCheckpoint(cfg);
        boolean ok = false;
        try {
            if (weightsFile.getFileName().toString().endsWith(".index.json")) {
                ShardIndex.open(weightsFile, dir, o.files, o.where);
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
}
