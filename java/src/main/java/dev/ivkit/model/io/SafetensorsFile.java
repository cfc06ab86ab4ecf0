package dev.ivkit.model.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.ivkit.ModelFormatException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.model.io.Safetensors.Dtype;
import dev.ivkit.model.io.Safetensors.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * An open safetensors file whose header has been validated: every dtype known, shapes non-negative, each tensor's
 * byte range equal to numel × item size, inside the data buffer, and not overlapping another. Tensors are read on
 * demand with {@link #read}. Not thread-safe for {@link #close}; {@link #read} uses positional reads.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final long dataSize;
    private final LinkedHashMap<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, FileChannel channel, long dataStart, long dataSize,
            LinkedHashMap<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.dataSize = dataSize;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    static SafetensorsFile open(Path file) {
        if (!ByteOrder.nativeOrder().equals(ByteOrder.LITTLE_ENDIAN)) {
            throw new UnsupportedException("safetensors I/O needs a little-endian machine");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, null, "file not found", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file + ": " + e.getMessage(), e);
        }
        try {
            SafetensorsFile f = parse(file, ch);
            ch = null;
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }

    private static SafetensorsFile parse(Path file, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw err(file, "header length", "file is " + fileSize + " bytes, too short for the 8-byte header length (truncated?)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0, file);
        long n = lenBuf.flip().getLong();
        // n is an unsigned 64-bit value: a negative long is > 2^63
        if (n < 0 || n > Safetensors.MAX_HEADER_BYTES) {
            throw err(file, "header length", "header length " + Long.toUnsignedString(n) + " exceeds the limit of "
                    + Safetensors.MAX_HEADER_BYTES + " bytes");
        }
        if (n > fileSize - 8) {
            throw err(file, "header length", "header length " + n + " exceeds file size " + fileSize + " (truncated?)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, file);
        hb.flip();
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "header", "header is not valid UTF-8", e);
        }
        if (!json.startsWith("{")) {
            throw err(file, "header", "header does not start with '{' (not a safetensors file?)");
        }
        JsonObject root;
        try {
            JsonElement el = JsonParser.parseString(json);
            if (!el.isJsonObject()) {
                throw err(file, "header", "header is not a JSON object");
            }
            root = el.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
            throw new ModelFormatException(file, "header", "header is not valid JSON: " + e.getMessage(), e);
        }
        long dataStart = 8 + n;
        long dataSize = fileSize - dataStart;

        Map<String, String> metadata = Map.of();
        LinkedHashMap<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                metadata = parseMetadata(file, e.getValue());
                continue;
            }
            tensors.put(name, parseTensor(file, name, e.getValue(), dataSize));
        }

        // Ranges must not overlap (empty tensors occupy no bytes and may sit anywhere within the buffer).
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : tensors.values()) {
            if (t.byteSize() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw err(file, cur.name(), "tensor " + cur.name() + ": data_offsets [" + cur.begin() + ", " + cur.end()
                        + "] overlaps tensor " + prev.name() + " [" + prev.begin() + ", " + prev.end() + "]");
            }
        }
        return new SafetensorsFile(file, ch, dataStart, dataSize, tensors, metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonElement el) {
        if (!el.isJsonObject()) {
            throw err(file, "__metadata__", "__metadata__ is not an object of strings");
        }
        LinkedHashMap<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : el.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw err(file, "__metadata__", "__metadata__ value of '" + e.getKey() + "' is not a string");
            }
            m.put(e.getKey(), v.getAsString());
        }
        return Collections.unmodifiableMap(m);
    }

    private static TensorInfo parseTensor(Path file, String name, JsonElement el, long dataSize) {
        String who = "tensor " + name + ": ";
        if (!el.isJsonObject()) {
            throw err(file, name, who + "entry is not an object");
        }
        JsonObject o = el.getAsJsonObject();
        for (String key : o.keySet()) {
            if (!Set.of("dtype", "shape", "data_offsets").contains(key)) {
                throw err(file, name, who + "unknown field '" + key + "'");
            }
        }
        JsonElement dt = o.get("dtype");
        if (dt == null || !dt.isJsonPrimitive() || !dt.getAsJsonPrimitive().isString()) {
            throw err(file, name, who + "missing or non-string dtype");
        }
        Dtype dtype = Dtype.parse(dt.getAsString());
        if (dtype == null) {
            throw err(file, name, who + "unknown dtype " + dt.getAsString());
        }
        long[] shape = longArray(file, name, o.get("shape"), "shape");
        for (long s : shape) {
            if (s < 0) {
                throw err(file, name, who + "negative dimension in shape " + Arrays.toString(shape));
            }
        }
        long[] offsets = longArray(file, name, o.get("data_offsets"), "data_offsets");
        if (offsets.length != 2) {
            throw err(file, name, who + "data_offsets must have 2 entries, got " + offsets.length);
        }
        long begin = offsets[0];
        long end = offsets[1];
        String range = "data_offsets [" + begin + ", " + end + "]";
        if (begin < 0 || end < begin) {
            throw err(file, name, who + range + " has end < begin");
        }
        if (end > dataSize) {
            throw err(file, name, who + range + " out of range (data buffer is " + dataSize + " bytes; truncated?)");
        }
        long expected;
        try {
            long numel = 1;
            for (long s : shape) {
                numel = Math.multiplyExact(numel, s);
            }
            expected = Math.multiplyExact(numel, (long) dtype.itemSize);
        } catch (ArithmeticException e) {
            throw err(file, name, who + "shape " + Arrays.toString(shape) + " overflows");
        }
        if (expected != end - begin) {
            throw err(file, name, who + range + " spans " + (end - begin) + " bytes but shape " + Arrays.toString(shape)
                    + " of " + dtype + " needs " + expected);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] longArray(Path file, String name, JsonElement el, String field) {
        if (el == null || !el.isJsonArray()) {
            throw err(file, name, "tensor " + name + ": missing or non-array " + field);
        }
        JsonArray a = el.getAsJsonArray();
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement v = a.get(i);
            Long x = null;
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                try {
                    BigDecimal bd = new BigDecimal(((JsonPrimitive) v).getAsString());
                    x = bd.longValueExact();
                } catch (ArithmeticException | NumberFormatException ignored) {
                    x = null;
                }
            }
            if (x == null) {
                throw err(file, name, "tensor " + name + ": " + field + " entry " + v + " is not an integer");
            }
            out[i] = x;
        }
        return out;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) {
                throw err(file, null, "unexpected end of file at byte " + pos + " (truncated?)");
            }
            pos += r;
        }
    }

    private static ModelFormatException err(Path file, String field, String message) {
        return new ModelFormatException(file, field, message);
    }

    /**
     * The file this was opened from.
     *
     * @return the file's path
     */
    public Path path() {
        return file;
    }

    /**
     * Tensor names in header order.
     *
     * @return the names (unmodifiable)
     */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    /**
     * Whether the file holds a tensor of that name.
     *
     * @param name a tensor name
     * @return true when present
     */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * Header entry of a tensor.
     *
     * @param name a tensor name
     * @return its dtype, shape and byte range
     * @throws ModelFormatException naming the file when there is no such tensor
     */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw err(file, name, "no tensor named " + name);
        }
        return t;
    }

    /**
     * The {@code __metadata__} map (empty when absent).
     *
     * @return the metadata (unmodifiable)
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Reads one tensor into a new contiguous CPU tensor of the file's dtype (bf16 and f16 stay as they are). The
     * result belongs to the caller's innermost {@link PointerScope} if there is one, like any libtorch result.
     *
     * @param name a tensor name
     * @return the tensor, owned by the caller's scope
     */
    public Tensor read(String name) {
        TensorInfo info = info(name);
        if (!channel.isOpen()) {
            throw new IllegalStateException(file + " is closed");
        }
        Tensor result;
        try (PointerScope s = new PointerScope()) {
            Tensor t = TensorOpts.empty(info.shape(), info.dtype().scalarType);
            long size = info.byteSize();
            if (size > 0) {
                BytePointer p = new BytePointer(t.data_ptr());
                for (long off = 0; off < size; off += Safetensors.CHUNK) {
                    long len = Math.min(Safetensors.CHUNK, size - off);
                    p.position(off).limit(off + len);
                    ByteBuffer bb = p.asByteBuffer();
                    readFully(channel, bb, dataStart + info.begin() + off, file);
                }
            }
            t.retainReference();
            result = t;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return TensorOpts.handOver(result);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
