package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded bf16 checkpoints written shard by shard load back bit for bit; headers alone describe them. */
class ShardedCheckpointWriterTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    @Test
    void shardsRoundTripAndInspectReadsHeadersOnly(@TempDir Path dir) throws IOException {
        try (PointerScope s = new PointerScope()) {
            ModelConfig cfg = TinyModels.config(true, false, RopeStyle.HALF);
            LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 9);
            List<String> asked = new ArrayList<>();
            List<Long> progress = new ArrayList<>();
            // 200 bytes a shard: the 10 x 8 bf16 embedding (160 bytes) fills one, small tensors share the others
            List<Path> files = ShardedCheckpointWriter.write(dir, cfg, ScalarType.BFloat16, 200, name -> {
                asked.add(name);
                return w.get(name);
            }, progress::add);
            assertEquals(List.copyOf(w.keySet()), asked, "every tensor asked for once, in order");
            assertTrue(files.size() > 3, "several shards: " + files);
            assertEquals(files.size(), progress.size());
            long bytes = w.values().stream().mapToLong(t -> t.numel() * 2).sum();
            assertEquals(bytes, progress.get(progress.size() - 1));
            JsonObject index = JsonParser.parseString(Files.readString(dir.resolve(HfCheckpoint.INDEX))).getAsJsonObject();
            assertEquals(bytes, index.getAsJsonObject("metadata").get("total_size").getAsLong());
            assertEquals(String.format("model-00001-of-%05d.safetensors", files.size()),
                    index.getAsJsonObject("weight_map").get("model.embed_tokens.weight").getAsString());

            HfCheckpoint.Summary sum = HfCheckpoint.inspect(dir);
            assertEquals(cfg, sum.config());
            assertEquals(cfg.parameterCount(), sum.parameters());
            assertEquals(bytes, sum.bytes());
            assertEquals(java.util.Set.of("BF16"), sum.dtypes());
            assertEquals(files.size(), sum.files());

            List<long[]> seen = new ArrayList<>();
            Checkpoint back = HfCheckpoint.load(dir, null, (done, total) -> seen.add(new long[] {done, total}));
            assertEquals(w.size(), seen.size());
            assertEquals(bytes, seen.get(seen.size() - 1)[0]);
            assertEquals(bytes, seen.get(0)[1]);
            for (String name : w.keySet()) {
                Tensor got = back.weights().get(name);
                assertEquals(torch.ScalarType.BFloat16, Torch.dtype(got), name);
                assertTrue(torch.equal(w.get(name).to(ScalarType.BFloat16), got), name);
            }
        }
    }

    @Test
    void refusesWrongShapesAndNonEmptyDirectories(@TempDir Path dir) {
        try (PointerScope s = new PointerScope()) {
            ModelConfig cfg = TinyModels.config(false, true, RopeStyle.HALF);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> ShardedCheckpointWriter.write(
                    dir.resolve("a"), cfg, ScalarType.Float, 1 << 20, name -> torch.zeros(3), null));
            assertTrue(e.getMessage().contains("model.embed_tokens.weight"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("a").resolve(HfCheckpoint.INDEX)), "no index after a failed write");
            assertThrows(ModelFormatException.class, () -> HfCheckpoint.load(dir.resolve("a")),
                    "shards without an index are not a checkpoint");
            LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 1);
            ShardedCheckpointWriter.write(dir.resolve("b"), cfg, ScalarType.Float, 1 << 20, w::get, null);
            e = assertThrows(InvalidArgumentException.class,
                    () -> ShardedCheckpointWriter.write(dir.resolve("b"), cfg, ScalarType.Float, 1 << 20, w::get, null));
            assertTrue(e.getMessage().contains("empty directory"), e.getMessage());
        }
    }
}
