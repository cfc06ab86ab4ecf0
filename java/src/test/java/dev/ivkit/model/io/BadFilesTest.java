package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.ModelFormatException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import dev.ivkit.util.Torch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Corrupt or inconsistent files, built byte by byte (or from a valid tiny checkpoint and then damaged). Each must fail
 * with a {@link ModelFormatException} whose message names the offending file and, where there is one, the tensor or
 * field.
 */
class BadFilesTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    /**
     * @param build    creates the bad input in the temp dir and returns what to load
     * @param load     the loader under test
     * @param file     name of the file the error must name
     * @param field    tensor/field the error must name (checked in field() and in the message), or null
     * @param fragment a piece of the message
     */
    record Case(String name, Function<Path, Path> build, Function<Path, Object> load, String file, String field,
            String fragment) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final Function<Path, Object> OPEN = p -> {
        try (SafetensorsFile f = Safetensors.open(p)) {
            for (String n : f.names()) {
                f.read(n);
            }
        }
        return null;
    };
    static final Function<Path, Object> LOAD = HfCheckpoint::load;
    static final Function<Path, Object> CONFIG = HfConfig::read;

    static final String W = "model.norm.weight";
    static final String GOOD = "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    /** 8-byte little-endian length, header, data. */
    static byte[] st(long headerLen, String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLen).put(h);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    static byte[] st(String header, int dataBytes) {
        return st(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    static Function<Path, Path> bytes(byte[] content) {
        return dir -> {
            Path p = dir.resolve("bad.safetensors");
            try {
                Files.write(p, content);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return p;
        };
    }

    static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    static Case stCase(String name, byte[] content, String field, String fragment) {
        return new Case(name, bytes(content), OPEN, "bad.safetensors", field, fragment);
    }

    /** A valid tiny checkpoint, with {@code edit} applied to its weights before writing. */
    static Function<Path, Path> checkpoint(ModelConfig cfg, java.util.function.Consumer<LinkedHashMap<String, Tensor>> edit) {
        return dir -> {
            try (PointerScope s = new PointerScope()) {
                LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 1);
                edit.accept(w);
                TinyModels.writeRaw(dir, cfg, w);
            }
            return dir;
        };
    }

    static Function<Path, Path> configWithout(String field) {
        return dir -> {
            HfConfig.write(dir, TinyModels.config(false, false, RopeStyle.HALF));
            try {
                Path p = dir.resolve("config.json");
                JsonObject o = JsonParser.parseString(Files.readString(p)).getAsJsonObject();
                o.remove(field);
                Files.writeString(p, o.toString());
                return p;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    static Function<Path, Path> shardedWithMissingShard() {
        return dir -> {
            ModelConfig cfg = TinyModels.config(false, false, RopeStyle.HALF);
            try (PointerScope s = new PointerScope()) {
                LinkedHashMap<String, Tensor> w = TinyModels.weights(cfg, 1);
                LinkedHashMap<String, Tensor> a = new LinkedHashMap<>();
                LinkedHashMap<String, Tensor> b = new LinkedHashMap<>();
                StringBuilder map = new StringBuilder();
                int i = 0;
                for (Map.Entry<String, Tensor> e : w.entrySet()) {
                    boolean first = i++ < w.size() / 2;
                    (first ? a : b).put(e.getKey(), e.getValue());
                    map.append(map.length() == 0 ? "" : ",").append('"').append(e.getKey()).append("\":\"")
                            .append(first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors").append('"');
                }
                HfConfig.write(dir, cfg);
                Safetensors.write(dir.resolve("model-00001-of-00002.safetensors"), a, Map.of("format", "pt"));
                // the second shard is never written
                Files.writeString(dir.resolve(HfCheckpoint.INDEX), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return dir;
        };
    }

    static Stream<Case> cases() {
        byte[] good = st(GOOD, 8);
        int goodHeaderLen = GOOD.length();
        ModelConfig untied = TinyModels.config(false, false, RopeStyle.HALF);
        String q0 = WeightNames.q(0);
        return Stream.of(
                stCase("truncated in data buffer", Arrays.copyOf(good, good.length - 3), W, "out of range"),
                stCase("truncated inside header", Arrays.copyOf(good, 8 + goodHeaderLen / 2), "header length", "exceeds file size"),
                stCase("shorter than the length field", new byte[] {1, 2, 3}, "header length", "too short"),
                stCase("header length past end of file", st(999999, GOOD, 8), "header length", "header length 999999 exceeds file size"),
                stCase("huge header length", st(1L << 40, GOOD, 8), "header length", "exceeds the limit"),
                stCase("header length with top bit set", st(-8L, GOOD, 8), "header length", "exceeds the limit"),
                stCase("offsets out of range", st("{" + entry(W, "F32", "[100]", "[0,400]") + "}", 8), W, "data_offsets [0, 400] out of range"),
                stCase("overlapping ranges", st("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry(W, "F32", "[2]", "[4,12]") + "}", 12),
                        W, "overlaps tensor a"),
                stCase("end before begin", st("{" + entry(W, "F32", "[0]", "[8,0]") + "}", 8), W, "end < begin"),
                stCase("size does not match shape", st("{" + entry(W, "F32", "[3]", "[0,8]") + "}", 8), W, "needs 12"),
                stCase("unknown dtype", st("{" + entry(W, "F8_E9", "[2]", "[0,8]") + "}", 8), W, "unknown dtype F8_E9"),
                stCase("negative dimension", st("{" + entry(W, "F32", "[-2]", "[0,8]") + "}", 8), W, "negative dimension"),
                stCase("fractional offset", st("{" + entry(W, "F32", "[2]", "[0,8.5]") + "}", 8), W, "not an integer"),
                stCase("non-JSON header", st("{\"a\": [1, 2", 8), "header", "not valid JSON"),
                stCase("header not an object", st("[1, 2, 3]  ", 0), "header", "does not start with '{'"),
                stCase("metadata value not a string", st("{\"__metadata__\":{\"n\":1}}", 0), "__metadata__", "is not a string"),
                new Case("missing shard in sharded index", shardedWithMissingShard(), LOAD, HfCheckpoint.INDEX,
                        "model-00002-of-00002.safetensors", "does not exist"),
                new Case("shape contradicts config.json", checkpoint(untied, w -> w.put(q0, torch.randn(8, 7))), LOAD,
                        HfCheckpoint.WEIGHTS, q0, "shape [8, 7] contradicts config.json (expected [8, 8])"),
                new Case("missing tensor", checkpoint(untied, w -> w.remove(W)), LOAD, HfCheckpoint.WEIGHTS, W,
                        "missing tensor " + W),
                new Case("missing lm_head when not tied", checkpoint(untied, w -> w.remove(WeightNames.LM_HEAD)), LOAD,
                        HfCheckpoint.WEIGHTS, WeightNames.LM_HEAD, "tie_word_embeddings=false"),
                new Case("unexpected tensor", checkpoint(untied, w -> w.put("model.layers.0.self_attn.o_proj.bias", torch.randn(8))),
                        LOAD, HfCheckpoint.WEIGHTS, "model.layers.0.self_attn.o_proj.bias", "unexpected tensor"),
                new Case("integer weight", checkpoint(untied, w -> w.put(W, Torch.fromLongs(1, 2, 3, 4, 5, 6, 7, 8))), LOAD,
                        HfCheckpoint.WEIGHTS, W, "not a floating-point"),
                new Case("config.json missing hidden_size", configWithout("hidden_size"), CONFIG, "config.json", "hidden_size",
                        "missing field hidden_size"),
                new Case("config.json missing vocab_size (via load)", dir -> {
                    configWithout("vocab_size").apply(dir);
                    return dir;
                }, LOAD, "config.json", "vocab_size", "missing field vocab_size"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectsWithANamedError(Case c, @TempDir Path dir) {
        Path target = c.build().apply(dir);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> c.load().apply(target));
        String msg = e.getMessage();
        assertEquals(c.file(), e.file().getFileName().toString(), msg);
        assertTrue(msg.contains(dir.resolve(c.file()).toString()) || msg.contains(e.file().toString()), msg);
        assertTrue(msg.contains(c.file()), "message should name the file: " + msg);
        if (c.field() != null) {
            assertEquals(c.field(), e.field(), msg);
            assertTrue(msg.contains(c.field()), "message should name " + c.field() + ": " + msg);
        }
        assertTrue(msg.contains(c.fragment()), "message should contain '" + c.fragment() + "': " + msg);
    }
}
