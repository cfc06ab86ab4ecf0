package dev.ivkit.model.io;

import static dev.ivkit.model.WeightNames.*;

import dev.ivkit.IvkitException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Reader of Karpathy's llama2.c checkpoints, both formats:
 * <ul>
 *   <li>legacy: 7 × int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative
 *       vocab_size means an untied classifier follows), then float32 token_emb, rms_att, wq, wk, wv, wo, rms_ffn, w1,
 *       w2, w3, rms_final, freq_cis_real, freq_cis_imag [, wcls];</li>
 *   <li>version 1: uint32 magic 0x616b3432 ("ak42"), int32 version 1, the 7 int32 params, uint8 shared_classifier,
 *       zero-padded to 256 bytes; then float32 attention norms, ffn norms, final norm, token_emb, wq, wk, wv, wo, w1, w2,
 *       w3 [, wcls].</li>
 * </ul>
 * Matrices are row-major [out, in]. Weights come out under {@link dev.ivkit.model.WeightNames} with
 * {@link RopeStyle#INTERLEAVED} rotary pairing (llama2.c's convention; no row permutation).
 */
public final class Llama2cCheckpoint {
    static final int MAGIC = 0x616b3432;
    private static final int V1_HEADER = 256;

    private Llama2cCheckpoint() {}

    /**
     * True when the file starts with the version-1 magic.
     *
     * @param file a llama2.c checkpoint
     * @return whether it is a version-1 file (else legacy)
     * @throws ModelFormatException when the file cannot be read
     */
    public static boolean isVersion1(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            return ch.read(b, 0) == 4 && b.getInt(0) == MAGIC;
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a llama2.c checkpoint of either format (decided by the magic) with its config from the header.
     *
     * @param file a llama2.c {@code .bin} checkpoint
     * @return the configuration and weights under {@link dev.ivkit.model.WeightNames}, owned by the caller
     * @throws ModelFormatException naming the file when it is truncated, corrupt or inconsistent with its header
     */
    public static Checkpoint load(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
            return isMagic(all) ? readV1(file, all, size) : readLegacy(file, all, size);
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    private static boolean isMagic(ByteBuffer b) {
        return b.limit() >= 4 && b.getInt(0) == MAGIC;
    }

    private static ModelConfig config(Path file, int[] p, boolean shared) {
        String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        for (int i = 0; i < p.length; i++) {
            if (p[i] <= 0 || p[i] > (1 << 24)) {
                throw new ModelFormatException(file, names[i], "implausible header value " + p[i]);
            }
        }
        if (p[0] % p[3] != 0) {
            throw new ModelFormatException(file, "n_heads", "dim " + p[0] + " is not a multiple of n_heads " + p[3]);
        }
        try {
            return new ModelConfig("llama2.c", p[0], p[1], p[2], p[3], p[4], p[0] / p[3], p[5], p[6], 1e-5, 10000.0,
                    RopeStyle.INTERLEAVED, null, shared, false, 1, 2);
        } catch (IvkitException e) {
            throw new ModelFormatException(file, "header", e.getMessage(), e);
        }
    }

    private static Checkpoint readLegacy(Path file, ByteBuffer b, long size) {
        if (size < 28) {
            throw new ModelFormatException(file, "header", "truncated: " + size + " bytes, the header alone needs 28");
        }
        int[] p = new int[7];
        for (int i = 0; i < 7; i++) {
            p[i] = b.getInt(i * 4);
        }
        boolean shared = p[5] > 0;
        p[5] = Math.abs(p[5]);
        ModelConfig cfg = config(file, p, shared);
        Reader r = new Reader(file, b, 28, size);
        Map<String, Tensor> w = new LinkedHashMap<>();
        int L = cfg.nLayers();
        long d = cfg.dModel(), q = (long) cfg.nHeads() * cfg.headDim(), kv = (long) cfg.nKvHeads() * cfg.headDim();
        long hid = cfg.hiddenDim(), head = cfg.headDim();
        long expected = 28 + 4 * ((long) cfg.vocabSize() * d + L * (2 * d + d * q + 2 * d * kv + q * d + 3 * d * hid) + d
                + (long) cfg.maxSeqLen() * head + (shared ? 0 : (long) cfg.vocabSize() * d));
        if (size < expected) {
            throw new ModelFormatException(file, null, "truncated: " + size + " bytes, the header implies " + expected);
        }
        w.put(EMBED, r.next(EMBED, cfg.vocabSize(), d));
        perLayer(r, w, L, "input_layernorm.weight", d);
        perLayer(r, w, L, "self_attn.q_proj.weight", q, d);
        perLayer(r, w, L, "self_attn.k_proj.weight", kv, d);
        perLayer(r, w, L, "self_attn.v_proj.weight", kv, d);
        perLayer(r, w, L, "self_attn.o_proj.weight", d, q);
        perLayer(r, w, L, "post_attention_layernorm.weight", d);
        perLayer(r, w, L, "mlp.gate_proj.weight", hid, d);
        perLayer(r, w, L, "mlp.down_proj.weight", d, hid);
        perLayer(r, w, L, "mlp.up_proj.weight", hid, d);
        w.put(FINAL_NORM, r.next(FINAL_NORM, d));
        r.skip((long) cfg.maxSeqLen() * head * 4);  // freq_cis_real + freq_cis_imag (recomputed)
        if (!shared) {
            w.put(LM_HEAD, r.next(LM_HEAD, cfg.vocabSize(), d));
        }
        return new Checkpoint(cfg, w, file);
    }

    private static Checkpoint readV1(Path file, ByteBuffer b, long size) {
        if (size < V1_HEADER) {
            throw new ModelFormatException(file, "header", "truncated: " + size + " bytes, the version-1 header needs " + V1_HEADER);
        }
        int version = b.getInt(4);
        if (version != 1) {
            throw new ModelFormatException(file, "version", "unsupported llama2.c format version " + version + " (1 is supported)");
        }
        int[] p = new int[7];
        for (int i = 0; i < 7; i++) {
            p[i] = b.getInt(8 + i * 4);
        }
        boolean shared = b.get(36) != 0;
        ModelConfig cfg = config(file, p, shared);
        int L = cfg.nLayers();
        long d = cfg.dModel(), q = (long) cfg.nHeads() * cfg.headDim(), kv = (long) cfg.nKvHeads() * cfg.headDim();
        long hid = cfg.hiddenDim();
        long expected = V1_HEADER + 4 * ((long) cfg.vocabSize() * d + L * (2 * d + d * q + 2 * d * kv + q * d + 3 * d * hid) + d
                + (shared ? 0 : (long) cfg.vocabSize() * d));
        if (size < expected) {
            throw new ModelFormatException(file, null, "truncated: " + size + " bytes, the header implies " + expected);
        }
        Reader r = new Reader(file, b, V1_HEADER, size);
        Map<String, Tensor> w = new LinkedHashMap<>();
        perLayer(r, w, L, "input_layernorm.weight", d);
        perLayer(r, w, L, "post_attention_layernorm.weight", d);
        w.put(FINAL_NORM, r.next(FINAL_NORM, d));
        w.put(EMBED, r.next(EMBED, cfg.vocabSize(), d));
        perLayer(r, w, L, "self_attn.q_proj.weight", q, d);
        perLayer(r, w, L, "self_attn.k_proj.weight", kv, d);
        perLayer(r, w, L, "self_attn.v_proj.weight", kv, d);
        perLayer(r, w, L, "self_attn.o_proj.weight", d, q);
        perLayer(r, w, L, "mlp.gate_proj.weight", hid, d);
        perLayer(r, w, L, "mlp.down_proj.weight", d, hid);
        perLayer(r, w, L, "mlp.up_proj.weight", hid, d);
        if (!shared) {
            w.put(LM_HEAD, r.next(LM_HEAD, cfg.vocabSize(), d));
        }
        return new Checkpoint(cfg, w, file);
    }

    private static void perLayer(Reader r, Map<String, Tensor> w, int layers, String suffix, long... shape) {
        for (int l = 0; l < layers; l++) {
            String name = layer(l, suffix);
            w.put(name, r.next(name, shape));
        }
    }

    /** Sequential float32 reader over the mapped file with bounds checks. */
    private static final class Reader {
        private final Path file;
        private final ByteBuffer buf;
        private final long size;
        private long offset;

        Reader(Path file, ByteBuffer buf, long offset, long size) {
            this.file = file;
            this.buf = buf;
            this.offset = offset;
            this.size = size;
        }

        Tensor next(String name, long... shape) {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            long bytes = n * 4;
            if (offset + bytes > size) {
                throw new ModelFormatException(file, name, "truncated: needs bytes [" + offset + ", " + (offset + bytes)
                        + ") but the file has " + size);
            }
            float[] data = new float[(int) n];
            buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).position((int) offset).asFloatBuffer().get(data);
            offset += bytes;
            for (float f : data) {
                if (!Float.isFinite(f)) {
                    throw new ModelFormatException(file, name, "contains NaN or Inf");
                }
            }
            return torch.tensor(data).reshape(shape);
        }

        void skip(long bytes) {
            offset += bytes;
        }
    }
}
