package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    private static void assertSameWeights(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(want.keySet(), got.keySet());
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
            assertTrue(torch.equal(e.getValue(), got.get(e.getKey())), e.getKey());
        }
    }

    private static void close(Checkpoint c) {
        c.weights().values().forEach(Tensor::close);
    }

    @Test
    void writeThenLoadRoundTrips(@TempDir Path dir) throws IOException {
        try (PointerScope s = new PointerScope()) {
            ModelConfig cfg = TinyModels.config(true, false, RopeStyle.HALF);
            LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 5);
            HfCheckpoint.write(dir, new Checkpoint(cfg, w, null), null);
            Checkpoint back = HfCheckpoint.load(dir);
            assertEquals(cfg, back.config());
            assertSameWeights(w, back.weights());
            assertEquals(List.copyOf(w.keySet()), List.copyOf(back.weights().keySet()));
            try (SafetensorsFile f = Safetensors.open(dir.resolve(HfCheckpoint.WEIGHTS))) {
                assertEquals(Map.of("format", "pt"), f.metadata());
            }
            JsonObject o = JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
            assertEquals("float32", o.get("torch_dtype").getAsString());
            // a path to the weights file works too
            Checkpoint viaFile = HfCheckpoint.load(dir.resolve(HfCheckpoint.WEIGHTS));
            assertSameWeights(w, viaFile.weights());
            close(back);
            close(viaFile);
        }
    }

    @Test
    void dtypeConversionOnLoadAndWrite(@TempDir Path dir) {
        try (PointerScope s = new PointerScope()) {
            ModelConfig cfg = TinyModels.config(false, true, RopeStyle.HALF);
            LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 6);
            Path f32 = dir.resolve("f32");
            HfCheckpoint.write(f32, new Checkpoint(cfg, w, null), null);
            Checkpoint bf = HfCheckpoint.load(f32, ScalarType.BFloat16);
            for (Map.Entry<String, Tensor> e : bf.weights().entrySet()) {
                assertEquals(ScalarType.BFloat16, e.getValue().scalar_type().intern(), e.getKey());
                assertTrue(torch.equal(w.get(e.getKey()).to(ScalarType.BFloat16), e.getValue()), e.getKey());
            }
            Path f16 = dir.resolve("f16");
            HfCheckpoint.write(f16, new Checkpoint(cfg, w, null), ScalarType.Half);
            Checkpoint half = HfCheckpoint.load(f16);
            assertEquals(ScalarType.Half, half.weights().get(WeightNames.EMBED).scalar_type().intern());
            assertFalse(half.weights().containsKey(WeightNames.LM_HEAD)); // tied
            close(bf);
            close(half);
        }
    }

    @Test
    void shardedEqualsUnsharded(@TempDir Path dir) throws IOException {
        try (PointerScope s = new PointerScope()) {
            ModelConfig cfg = TinyModels.config(false, false, RopeStyle.HALF);
            LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 7);
            Path single = dir.resolve("single");
            HfCheckpoint.write(single, new Checkpoint(cfg, w, null), null);

            Path sharded = dir.resolve("sharded");
            Files.createDirectories(sharded);
            HfConfig.write(sharded, cfg);
            LinkedHashMap<String, Tensor> a = new LinkedHashMap<>();
            LinkedHashMap<String, Tensor> b = new LinkedHashMap<>();
            JsonObject map = new JsonObject();
            int i = 0;
            for (Map.Entry<String, Tensor> e : w.entrySet()) {
                // interleave so each shard holds tensors of every kind
                String shard = i++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (i % 2 == 1 ? a : b).put(e.getKey(), e.getValue());
                map.addProperty(e.getKey(), shard);
            }
            // an HF-style leftover buffer that must be ignored
            a.put("model.layers.0.self_attn.rotary_emb.inv_freq", torch.ones(2));
            map.addProperty("model.layers.0.self_attn.rotary_emb.inv_freq", "model-00001-of-00002.safetensors");
            Safetensors.write(sharded.resolve("model-00001-of-00002.safetensors"), a, Map.of("format", "pt"));
            Safetensors.write(sharded.resolve("model-00002-of-00002.safetensors"), b, Map.of("format", "pt"));
            JsonObject index = new JsonObject();
            index.add("metadata", new JsonObject());
            index.add("weight_map", map);
            Files.writeString(sharded.resolve(HfCheckpoint.INDEX), index.toString());

            Checkpoint one = HfCheckpoint.load(single);
            Checkpoint two = HfCheckpoint.load(sharded);
            assertEquals(one.config(), two.config());
            assertSameWeights(one.weights(), two.weights());
            assertSameWeights(w, two.weights());
            close(one);
            close(two);
        }
    }

    @Test
    void tiedCheckpointIgnoresAStoredLmHead(@TempDir Path dir) {
        try (PointerScope s = new PointerScope()) {
            ModelConfig cfg = TinyModels.config(false, true, RopeStyle.HALF);
            LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 8);
            w.put(WeightNames.LM_HEAD, torch.randn(10, 8));
            TinyModels.writeRaw(dir, cfg, w);
            Checkpoint c = HfCheckpoint.load(dir);
            assertFalse(c.weights().containsKey(WeightNames.LM_HEAD));
            assertEquals(w.size() - 1, c.weights().size());
            close(c);
        }
    }

    /** llama2.c-style (interleaved) weights are written in HF layout: q/k rows permuted, the rest untouched. */
    @Test
    void interleavedCheckpointIsPermutedOnWrite(@TempDir Path dir) {
        try (PointerScope s = new PointerScope()) {
            ModelConfig cfg = TinyModels.config(true, false, RopeStyle.INTERLEAVED);
            LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 9);
            HfCheckpoint.write(dir, new Checkpoint(cfg, w, null), null);
            Checkpoint back = HfCheckpoint.load(dir);
            assertEquals(cfg.withRopeStyle(RopeStyle.HALF), back.config());
            Map<String, Tensor> got = back.weights();
            for (int l = 0; l < cfg.nLayers(); l++) {
                // head width 4: within each head rows [0,1,2,3] -> [0,2,1,3]; q has 2 heads, k has 1
                assertRowsPermuted(w.get(WeightNames.q(l)), got.get(WeightNames.q(l)), new int[] {0, 2, 1, 3, 4, 6, 5, 7});
                assertRowsPermuted(w.get(WeightNames.k(l)), got.get(WeightNames.k(l)), new int[] {0, 2, 1, 3});
                assertRowsPermuted(w.get(WeightNames.qBias(l)), got.get(WeightNames.qBias(l)), new int[] {0, 2, 1, 3, 4, 6, 5, 7});
                assertRowsPermuted(w.get(WeightNames.kBias(l)), got.get(WeightNames.kBias(l)), new int[] {0, 2, 1, 3});
                assertTrue(torch.equal(w.get(WeightNames.v(l)), got.get(WeightNames.v(l))));
                assertTrue(torch.equal(w.get(WeightNames.vBias(l)), got.get(WeightNames.vBias(l))));
                assertTrue(torch.equal(w.get(WeightNames.o(l)), got.get(WeightNames.o(l))));
            }
            // and back to interleaved gives the original
            Checkpoint again = RopePermutation.convert(back, RopeStyle.INTERLEAVED);
            assertEquals(cfg, again.config());
            assertSameWeights(w, again.weights());
            close(back);
        }
    }

    private static void assertRowsPermuted(Tensor original, Tensor permuted, int[] order) {
        assertArrayEquals(Torch.sizes(original), Torch.sizes(permuted));
        for (int r = 0; r < order.length; r++) {
            assertTrue(torch.equal(original.select(0, order[r]), permuted.select(0, r)), "row " + r);
        }
    }
}
