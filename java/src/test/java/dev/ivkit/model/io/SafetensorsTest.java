package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.model.io.Safetensors.Dtype;
import dev.ivkit.util.Torch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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

class SafetensorsTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    @Test
    void roundTripIsBitIdentical(@TempDir Path dir) {
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(7);
            LinkedHashMap<String, Tensor> in = new LinkedHashMap<>();
            in.put("f32.odd", torch.randn(3, 5));
            in.put("bf16", torch.randn(7).to(ScalarType.BFloat16));
            in.put("f16.3d", torch.randn(2, 3, 1).to(ScalarType.Half));
            in.put("scalar", torch.randn(1).reshape());
            in.put("empty", torch.randn(0, 4));
            in.put("transposed", torch.randn(4, 3).t()); // non-contiguous
            in.put("i64", Torch.fromLongs(-1, 0, Long.MAX_VALUE));
            in.put("z.last.bf16", torch.randn(5, 1, 3).to(ScalarType.BFloat16));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put("note", "ünïcödé \"quoted\" <tag>");
            Path file = dir.resolve("t.safetensors");
            Safetensors.write(file, in, meta);

            try (SafetensorsFile f = Safetensors.open(file)) {
                assertEquals(List.copyOf(in.keySet()), f.names());
                assertEquals(meta, f.metadata());
                for (Map.Entry<String, Tensor> e : in.entrySet()) {
                    Tensor want = e.getValue();
                    Tensor got = f.read(e.getKey());
                    assertEquals(want.scalar_type().intern(), got.scalar_type().intern(), e.getKey());
                    assertArrayEquals(Torch.sizes(want), Torch.sizes(got), e.getKey());
                    assertArrayEquals(Torch.sizes(want), f.info(e.getKey()).shape(), e.getKey());
                    assertEquals(Dtype.of(want.scalar_type().intern()), f.info(e.getKey()).dtype());
                    assertTrue(torch.equal(want, got), e.getKey());
                }
            }
            // No temporary file left behind by the atomic write.
            assertEquals(1, dir.toFile().list().length);
            // Rewriting over an existing file replaces it.
            LinkedHashMap<String, Tensor> one = new LinkedHashMap<>();
            one.put("x", torch.ones(2));
            Safetensors.write(file, one, null);
            Map<String, Tensor> back = Safetensors.readAll(file);
            assertEquals(List.of("x"), List.copyOf(back.keySet()));
            assertTrue(torch.equal(one.get("x"), back.get("x")));
        }
    }

    /** The independent reference for the format: a file laid out by hand, byte for byte. */
    @Test
    void writesTheExactByteLayout(@TempDir Path dir) throws Exception {
        String json = "{\"__metadata__\":{\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[8,10]}}";
        assertEquals(134, json.length());
        ByteBuffer expected = ByteBuffer.allocate(8 + 136 + 10).order(ByteOrder.LITTLE_ENDIAN);
        expected.put(new byte[] {(byte) 0x88, 0, 0, 0, 0, 0, 0, 0}); // 136 = 134 padded to a multiple of 8
        expected.put(json.getBytes(StandardCharsets.US_ASCII)).put((byte) ' ').put((byte) ' ');
        expected.put(new byte[] {0, 0, (byte) 0x80, 0x3F}); // 1.0f
        expected.put(new byte[] {0, 0, 0, (byte) 0xC0});    // -2.0f
        expected.put(new byte[] {(byte) 0x80, 0x3F});       // bf16 1.0
        try (PointerScope s = new PointerScope()) {
            LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("a", Torch.fromFloats(new float[] {1f, -2f}, 2));
            t.put("b", Torch.fromFloats(new float[] {1f}, 1).to(ScalarType.BFloat16));
            Path file = dir.resolve("tiny.safetensors");
            Safetensors.write(file, t, Map.of("k", "v"));
            assertArrayEquals(expected.array(), Files.readAllBytes(file));

            // And the reader decodes the hand-made bytes.
            Path hand = dir.resolve("hand.safetensors");
            Files.write(hand, expected.array());
            try (SafetensorsFile f = Safetensors.open(hand)) {
                assertEquals(Map.of("k", "v"), f.metadata());
                assertArrayEquals(new float[] {1f, -2f}, Torch.toFloatArray(f.read("a")));
                Tensor b = f.read("b");
                assertEquals(ScalarType.BFloat16, b.scalar_type().intern());
                assertArrayEquals(new float[] {1f}, Torch.toFloatArray(b));
                assertEquals(8, f.info("b").begin());
                assertEquals(10, f.info("b").end());
                assertFalse(f.contains("c"));
            }
        }
    }

    @Test
    void readResultBelongsToCallerScope(@TempDir Path dir) {
        Path file = dir.resolve("s.safetensors");
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        try (PointerScope s = new PointerScope()) {
            t.put("a", torch.ones(3));
            Safetensors.write(file, t, null);
        }
        Tensor kept;
        try (SafetensorsFile f = Safetensors.open(file)) {
            try (PointerScope s = new PointerScope()) {
                Tensor a = f.read("a");
                assertTrue(a.referenceCount() >= 1);
                a.retainReference();
                kept = a;
            }
            // retained past the scope: still usable
            assertArrayEquals(new float[] {1f, 1f, 1f}, Torch.toFloatArray(kept));
            kept.releaseReference();
        }
    }
}
