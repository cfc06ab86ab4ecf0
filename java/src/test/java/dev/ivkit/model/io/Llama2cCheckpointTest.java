package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.ModelFormatException;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.util.Torch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llama2.c checkpoints: header fields of stories260K (from its README) and corrupt variants of the real files. */
class Llama2cCheckpointTest {
    @Test
    void readsTheStories260KHeader() {
        Checkpoint c = Llama2cCheckpoint.load(SharedData.stories260K().resolve("stories260K.bin"));
        // README: dim=64, hidden=172, layers=5, heads=8, kv_heads=4, vocab=+512 (tied), seq=512
        assertEquals(64, c.config().dModel());
        assertEquals(172, c.config().hiddenDim());
        assertEquals(5, c.config().nLayers());
        assertEquals(8, c.config().nHeads());
        assertEquals(4, c.config().nKvHeads());
        assertEquals(512, c.config().vocabSize());
        assertEquals(512, c.config().maxSeqLen());
        assertTrue(c.config().tiedEmbeddings());
        assertEquals(RopeStyle.INTERLEAVED, c.config().ropeStyle());
        long n = 0;
        for (Tensor t : c.weights().values()) {
            n += t.numel();
        }
        assertEquals(260_032, n);
        assertEquals(c.config().parameterCount(), n);
    }

    static Path truncatedCopy(Path src, Path dir, long keep) throws Exception {
        byte[] all = Files.readAllBytes(src);
        Path out = dir.resolve(src.getFileName() + ".cut" + keep);
        Files.write(out, Arrays.copyOf(all, (int) keep));
        return out;
    }

    @Test
    void truncatedFilesNameTheFile(@TempDir Path tmp) throws Exception {
        for (String name : new String[] {"stories260K.bin", "stories260K.v1.bin"}) {
            Path src = SharedData.stories260K().resolve(name);
            long size = Files.size(src);
            for (long keep : new long[] {0, 3, 20, 200, size / 2, size - 4}) {
                Path cut = truncatedCopy(src, tmp, keep);
                ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cCheckpoint.load(cut), name + " cut at " + keep);
                assertEquals(cut, e.file());
                assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
            }
        }
    }

    @Test
    void implausibleHeaderAndBadVersion(@TempDir Path tmp) throws Exception {
        byte[] legacy = Files.readAllBytes(SharedData.stories260K().resolve("stories260K.bin"));
        ByteBuffer.wrap(legacy).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 0);  // n_heads = 0
        Path p = tmp.resolve("heads0.bin");
        Files.write(p, legacy);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cCheckpoint.load(p));
        assertEquals("n_heads", e.field());

        byte[] v1 = Files.readAllBytes(SharedData.stories260K().resolve("stories260K.v1.bin"));
        ByteBuffer.wrap(v1).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 7);       // version 7
        Path q = tmp.resolve("v7.bin");
        Files.write(q, v1);
        e = assertThrows(ModelFormatException.class, () -> Llama2cCheckpoint.load(q));
        assertEquals("version", e.field());
    }

    @Test
    void nanWeightsAreRejectedNamingTheTensor(@TempDir Path tmp) throws Exception {
        byte[] legacy = Files.readAllBytes(SharedData.stories260K().resolve("stories260K.bin"));
        // first element of rms_att (layer 0 attention norm): after the header and token_emb [512, 64]
        int offset = 28 + 4 * 512 * 64;
        ByteBuffer.wrap(legacy).order(ByteOrder.LITTLE_ENDIAN).putFloat(offset, Float.NaN);
        Path p = tmp.resolve("nan.bin");
        Files.write(p, legacy);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cCheckpoint.load(p));
        assertEquals("model.layers.0.input_layernorm.weight", e.field());
    }

    @Test
    void legacyAndV1WeightsAreIdentical() {
        Checkpoint a = Llama2cCheckpoint.load(SharedData.stories260K().resolve("stories260K.bin"));
        Checkpoint b = Llama2cCheckpoint.load(SharedData.stories260K().resolve("stories260K.v1.bin"));
        assertEquals(a.weights().keySet(), b.weights().keySet());
        for (String k : a.weights().keySet()) {
            assertTrue(Arrays.equals(Torch.toFloatArray(a.weights().get(k)), Torch.toFloatArray(b.weights().get(k))), k);
        }
    }
}
