package dev.ivkit.model.io;

import com.google.gson.stream.JsonWriter;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.UnsupportedException;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Reader and writer of the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * ({@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}}), then the data buffer, to
 * which the offsets are relative.
 *
 * <p>Reading validates the whole header before any tensor is touched (see {@link SafetensorsFile}); every problem is
 * a {@link ModelFormatException} naming the file and the tensor or field. Writing is atomic (temporary file in the
 * same directory, then an atomic rename) and pads the header with spaces to a multiple of 8 bytes as the reference
 * implementation does.
 */
public final class Safetensors {
    /** Largest header accepted (the reference implementation's limit is 100 MB too). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Bytes copied per read/write call (below the 2 GiB limit of a ByteBuffer). */
    static final int CHUNK = 1 << 30;

    private Safetensors() {}

    /** The dtypes of the format that ivkit knows, with their libtorch type and item size in bytes. */
    public enum Dtype {
        /** 64-bit float. */
        F64(ScalarType.Double, 8),
        /** 32-bit float. */
        F32(ScalarType.Float, 4),
        /** IEEE half precision. */
        F16(ScalarType.Half, 2),
        /** bfloat16. */
        BF16(ScalarType.BFloat16, 2),
        /** 64-bit signed integer. */
        I64(ScalarType.Long, 8),
        /** 32-bit signed integer. */
        I32(ScalarType.Int, 4),
        /** 16-bit signed integer. */
        I16(ScalarType.Short, 2),
        /** 8-bit signed integer. */
        I8(ScalarType.Char, 1),
        /** 8-bit unsigned integer. */
        U8(ScalarType.Byte, 1),
        /** Boolean, one byte each. */
        BOOL(ScalarType.Bool, 1);

        /** The matching libtorch type. */
        public final ScalarType scalarType;
        /** Bytes per element. */
        public final int itemSize;

        Dtype(ScalarType scalarType, int itemSize) {
            this.scalarType = scalarType;
            this.itemSize = itemSize;
        }

        /**
         * The format's name for a libtorch type, or null when the format (or ivkit) has none.
         *
         * @param t a libtorch type
         * @return the format's dtype, or null
         */
        public static Dtype of(ScalarType t) {
            for (Dtype d : values()) {
                if (t != null && d.scalarType.value == t.value) {
                    return d;
                }
            }
            return null;
        }

        /**
         * Parses a header dtype string; null when unknown.
         *
         * @param s a header dtype such as {@code "BF16"}
         * @return the dtype, or null
         */
        public static Dtype parse(String s) {
            for (Dtype d : values()) {
                if (d.name().equals(s)) {
                    return d;
                }
            }
            return null;
        }
    }

    /**
     * One tensor's header entry.
     *
     * @param begin offset of the first byte, relative to the data buffer
     * @param end   offset one past the last byte
     */
    public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {
        /**
         * Number of elements ({@code 1} for a scalar).
         *
         * @return the product of the shape
         */
        public long numel() {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            return n;
        }

        /**
         * Bytes the tensor occupies in the data buffer.
         *
         * @return {@code end - begin}
         */
        public long byteSize() {
            return end - begin;
        }
    }

    /**
     * Opens a file and validates its header; the caller closes the returned handle.
     *
     * @param file a safetensors file
     * @return the open file
     * @throws ModelFormatException naming the file when the header is invalid
     */
    public static SafetensorsFile open(Path file) {
        return SafetensorsFile.open(file);
    }

    /**
     * Reads every tensor of a file (in header order). The caller owns the tensors.
     *
     * @param file a safetensors file
     * @return tensor name to tensor, in header order
     * @throws ModelFormatException naming the file when the header is invalid
     */
    public static LinkedHashMap<String, Tensor> readAll(Path file) {
        try (SafetensorsFile f = open(file)) {
            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            for (String name : f.names()) {
                out.put(name, f.read(name));
            }
            return out;
        }
    }

    /**
     * Writes tensors (in map order) and string metadata to {@code file}, atomically. Tensors may be on any device and
     * in any layout; they are copied to contiguous CPU memory one at a time.
     *
     * @param file     the file to write
     * @param tensors  tensor name to tensor, in the order written
     * @param metadata written as {@code __metadata__}; null or empty writes none
     * @throws InvalidArgumentException for a name that is empty or {@code __metadata__}, or an unsupported dtype
     */
    public static void write(Path file, LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {
        if (!ByteOrder.nativeOrder().equals(ByteOrder.LITTLE_ENDIAN)) {
            throw new UnsupportedException("safetensors I/O needs a little-endian machine");
        }
        // Header first: names, dtypes, shapes and offsets come from the tensors' metadata only.
        List<TensorInfo> infos = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new InvalidArgumentException("tensors", "invalid tensor name '" + name + "'");
            }
            if (t == null || t.isNull() || !t.defined()) {
                throw new InvalidArgumentException("tensors", "tensor " + name + " is null or undefined");
            }
            Dtype d = Dtype.of(t.scalar_type().intern());
            if (d == null) {
                throw new InvalidArgumentException("tensors", "tensor " + name + ": dtype " + t.scalar_type().intern() + " cannot be written to safetensors");
            }
            long[] shape = t.sizes().vec().get();
            long bytes = t.numel() * d.itemSize;
            infos.add(new TensorInfo(name, d, shape, offset, offset + bytes));
            offset += bytes;
        }
        byte[] header = headerBytes(infos, metadata);

        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                for (TensorInfo info : infos) {
                    if (info.byteSize() == 0) {
                        continue;
                    }
                    try (PointerScope s = new PointerScope()) {
                        Tensor c = tensors.get(info.name()).detach().cpu().contiguous();
                        BytePointer p = new BytePointer(c.data_ptr());
                        for (long off = 0; off < info.byteSize(); off += CHUNK) {
                            long n = Math.min(CHUNK, info.byteSize() - off);
                            p.position(off).limit(off + n);
                            writeFully(ch, p.asByteBuffer());
                        }
                    }
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    static byte[] headerBytes(List<TensorInfo> infos, Map<String, String> metadata) {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.setHtmlSafe(false);
            w.setSerializeNulls(false);
            w.beginObject();
            if (metadata != null && !metadata.isEmpty()) {
                w.name("__metadata__").beginObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    if (m.getKey() == null || m.getValue() == null) {
                        throw new InvalidArgumentException("metadata", "null key or value");
                    }
                    w.name(m.getKey()).value(m.getValue());
                }
                w.endObject();
            }
            for (TensorInfo info : infos) {
                w.name(info.name()).beginObject();
                w.name("dtype").value(info.dtype().name());
                w.name("shape").beginArray();
                for (long s : info.shape()) {
                    w.value(s);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(info.begin()).value(info.end()).endArray();
                w.endObject();
            }
            w.endObject();
        } catch (IOException e) {
            throw new IvkitException("cannot build safetensors header", e);
        }
        byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    static ModelFormatException error(Path file, String field, String message) {
        return new ModelFormatException(file, field, message);
    }
}
