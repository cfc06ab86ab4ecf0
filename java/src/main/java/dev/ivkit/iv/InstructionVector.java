package dev.ivkit.iv;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.WeightNames;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.io.SafetensorsFile;
import dev.ivkit.util.AtomicFiles;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * An instruction (function) vector: {@code IV = Σ_{(l,h) ∈ heads} W_O^{(l)}[:, h·d_head:(h+1)·d_head] · mean_z[l, h]},
 * a [d_model] vector in the residual stream, with the statistics it came from. Saved as {@code iv.safetensors}
 * ({@code iv} [d_model], {@code mean_z} [layer, head, d_head], {@code cie} [layer, head], {@code heads} [k, 2]) and
 * {@code iv.json} (model fingerprint, task, prompt format, shots, prompts used, layer, seed, ivkit version).
 * Owns its tensors.
 */
public final class InstructionVector implements AutoCloseable {
    /** The tensors file's name inside an IV directory. */
    public static final String TENSORS = "iv.safetensors";
    /** The metadata file's name inside an IV directory. */
    public static final String METADATA = "iv.json";
    /** The {@code format} member of {@code iv.json} and of the safetensors header's metadata. */
    public static final String FORMAT = "ivkit-iv";
    /** The schema version written; files without one are version 1. */
    public static final int SCHEMA_VERSION = 1;

    private final Tensor vector;  // [d_model] float32
    private final Tensor meanZ;   // [layer, head, d_head] float32
    private final Tensor cie;     // [layer, head] float32
    private final List<HeadRanking.Head> heads;
    private final Map<String, Object> metadata;

    private InstructionVector(Tensor vector, Tensor meanZ, Tensor cie, List<HeadRanking.Head> heads, Map<String, Object> metadata) {
        this.vector = vector;
        this.meanZ = meanZ;
        this.cie = cie;
        this.heads = List.copyOf(heads);
        this.metadata = new LinkedHashMap<>(metadata);
    }

    /**
     * Builds the vector: the sum over {@code heads} of each head's W_O slice times its mean output, on the model's
     * device.
     *
     * @param model    the model whose W_O weights project the mean outputs
     * @param meanZ    [layer, head, d_head]
     * @param scores   [layer][head] ranking scores (stored as {@code cie})
     * @param heads    the selected heads
     * @param metadata free-form provenance (task, prompt format, shots, …); the model fingerprint is added
     * @return a new vector owning copies of its tensors; close it when done
     * @throws InvalidArgumentException when {@code meanZ} does not fit the model, or {@code heads} is empty or names a
     *                                  head out of range
     */
    public static InstructionVector build(LlamaModel model, Tensor meanZ, double[][] scores, List<HeadRanking.Head> heads,
            Map<String, Object> metadata) {
        var c = model.config();
        long[] s = Torch.sizes(meanZ);
        if (s.length != 3 || s[0] != c.nLayers() || s[1] != c.nHeads() || s[2] != c.headDim()) {
            throw new InvalidArgumentException("meanZ", "expected [" + c.nLayers() + ", " + c.nHeads() + ", " + c.headDim() + "], got " + Torch.shape(meanZ));
        }
        if (heads.isEmpty()) {
            throw new InvalidArgumentException("heads", "no heads selected");
        }
        // on the model's device, where W_O and the mean activations live (the file copy goes through the host)
        Tensor iv = torch.zeros(new long[] {c.dModel()}, Torch.options(torch.ScalarType.Float)
                .device(new org.bytedeco.pytorch.DeviceOptional(model.device().torch())));
        for (HeadRanking.Head h : heads) {
            if (h.layer() < 0 || h.layer() >= c.nLayers() || h.head() < 0 || h.head() >= c.nHeads()) {
                throw new InvalidArgumentException("heads", "head (" + h.layer() + ", " + h.head() + ") is out of range");
            }
            Tensor wo = model.weights().get(WeightNames.o(h.layer())).to(torch.ScalarType.Float);  // [d_model, head*d_head]
            Tensor slice = wo.narrow(1, (long) h.head() * c.headDim(), c.headDim());               // [d_model, d_head]
            // meanZ may be on the host (read back from mean_z.safetensors by ivkit extract or a resumed scan)
            iv = iv.add(slice.matmul(meanZ.select(0, h.layer()).select(0, h.head()).to(iv.device(), torch.ScalarType.Float)));
        }
        float[] flat = new float[c.nLayers() * c.nHeads()];
        for (int l = 0; l < c.nLayers(); l++) {
            for (int h = 0; h < c.nHeads(); h++) {
                flat[l * c.nHeads() + h] = (float) scores[l][h];
            }
        }
        Map<String, Object> meta = new LinkedHashMap<>(metadata);
        meta.put("model_fingerprint", ModelFingerprint.of(model));
        meta.put("d_model", c.dModel());
        meta.put("layers", c.nLayers());
        meta.put("heads_per_layer", c.nHeads());
        meta.putIfAbsent("ivkit_version", dev.ivkit.kernels.Kernels.nativeVersion());
        return new InstructionVector(retain(iv.contiguous()), retain(meanZ.to(torch.ScalarType.Float).contiguous().clone()),
                retain(torch.tensor(flat).reshape(c.nLayers(), c.nHeads())), heads, meta);
    }

    private static Tensor retain(Tensor t) {
        t.retainReference();
        return t;
    }

    /**
     * The vector itself.
     *
     * @return [d_model] float32, owned by this object
     */
    public Tensor vector() {
        return vector;
    }

    /**
     * The mean head outputs the vector was built from.
     *
     * @return [layer, head, d_head] float32, owned by this object
     */
    public Tensor meanZ() {
        return meanZ;
    }

    /**
     * The ranking scores the heads were selected by (file member {@code cie}).
     *
     * @return [layer, head] float32, owned by this object
     */
    public Tensor cie() {
        return cie;
    }

    /**
     * The selected heads.
     *
     * @return the heads summed into the vector, with their scores, in selection order (unmodifiable)
     */
    public List<HeadRanking.Head> heads() {
        return heads;
    }

    /**
     * The provenance written to {@code iv.json} (model fingerprint, task, prompt format, shots, layer, seed, …).
     *
     * @return an unmodifiable view of the metadata
     */
    public Map<String, Object> metadata() {
        return java.util.Collections.unmodifiableMap(metadata);
    }

    /**
     * The residual stream width.
     *
     * @return the vector's length, d_model
     */
    public int dModel() {
        return (int) vector.size(0);
    }

    /**
     * The residual addition that applies this vector at blocks.{layer}.hook_resid_post, last token of every row.
     *
     * @param layer the block after which the vector is added
     * @param scale the factor the vector is multiplied by
     * @return the addition, to put in a hook plan
     */
    public ResidualAdd at(int layer, float scale) {
        return new ResidualAdd(HookSite.residPost(layer), Positions.last(), vector, scale, null);
    }

    /**
     * Checks this vector fits the model (d_model and the shape of the head grid).
     *
     * @param model  the model it is to be applied to
     * @param source the file the vector was read from, named in the error
     * @throws ModelFormatException when d_model or the layer × head grid differs from the model's
     */
    public void requireCompatible(LlamaModel model, Path source) {
        var c = model.config();
        if (dModel() != c.dModel()) {
            throw new ModelFormatException(source, "d_model", "instruction vector has d_model " + dModel() + " but the model has " + c.dModel());
        }
        if (meanZ.size(0) != c.nLayers() || meanZ.size(1) != c.nHeads()) {
            throw new ModelFormatException(source, "mean_z", "instruction vector was built for " + meanZ.size(0) + " layers × "
                    + meanZ.size(1) + " heads, the model has " + c.nLayers() + " × " + c.nHeads());
        }
    }

    /**
     * Writes {@code dir/iv.safetensors} and {@code dir/iv.json}, each atomically.
     *
     * @param dir the directory, created when missing
     * @throws InvalidArgumentException when {@code dir} cannot be created
     */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new InvalidArgumentException("out", "cannot create " + dir + ": " + e.getMessage());
        }
        long[] hv = new long[heads.size() * 2];
        for (int i = 0; i < heads.size(); i++) {
            hv[2 * i] = heads.get(i).layer();
            hv[2 * i + 1] = heads.get(i).head();
        }
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        t.put("iv", vector);
        t.put("mean_z", meanZ);
        t.put("cie", cie);
        t.put("heads", Torch.fromLongs(hv).reshape(heads.size(), 2));
        Safetensors.write(dir.resolve(TENSORS), t, Map.of("format", FORMAT, "schema_version", Integer.toString(SCHEMA_VERSION)));
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("schema_version", SCHEMA_VERSION);
        meta.putAll(metadata);
        List<Map<String, Object>> hl = new ArrayList<>();
        for (HeadRanking.Head h : heads) {
            hl.add(Map.of("layer", h.layer(), "head", h.head(), "score", h.score()));
        }
        meta.put("selected_heads", hl);
        Gson gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
        AtomicFiles.writeString(dir.resolve(METADATA), gson.toJson(meta));
    }

    /**
     * Reads a directory written by {@link #save}.
     *
     * @param dir the directory holding {@code iv.safetensors} and {@code iv.json}
     * @return the vector, owning its tensors; close it when done
     * @throws ModelFormatException naming the file (and tensor) when a file is missing, unreadable or malformed, a
     *                              head is out of range or the vector holds NaN or Inf
     */
    public static InstructionVector load(Path dir) {
        Path tf = dir.resolve(TENSORS), mf = dir.resolve(METADATA);
        if (!Files.isRegularFile(tf)) {
            throw new ModelFormatException(tf, null, "instruction vector file is missing");
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        List<HeadRanking.Head> heads = new ArrayList<>();
        JsonObject json;
        try {
            json = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(mf, null, "cannot read instruction vector metadata: " + e.getMessage(), e);
        }
        if (json.has("format") && !(json.get("format").isJsonPrimitive() && FORMAT.equals(json.get("format").getAsString()))) {
            throw new ModelFormatException(mf, "format", "not an instruction vector (format " + json.get("format") + ", expected " + FORMAT + ")");
        }
        if (json.has("schema_version")) {   // absent: files written before versions were recorded, read as version 1
            var v = json.get("schema_version");
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber() || v.getAsInt() < 1 || v.getAsInt() > SCHEMA_VERSION) {
                throw new ModelFormatException(mf, "schema_version", "unsupported version " + v + " (this ivkit reads 1 to " + SCHEMA_VERSION + ")");
            }
        }
        for (String k : json.keySet()) {
            if (!k.equals("selected_heads") && !k.equals("format") && !k.equals("schema_version")) {
                meta.put(k, new Gson().fromJson(json.get(k), Object.class));
            }
        }
        try (SafetensorsFile f = Safetensors.open(tf)) {
            for (String name : new String[] {"iv", "mean_z", "cie", "heads"}) {
                if (!f.contains(name)) {
                    throw new ModelFormatException(tf, name, "tensor is missing");
                }
            }
            Tensor iv = f.read("iv").to(torch.ScalarType.Float), meanZ = f.read("mean_z").to(torch.ScalarType.Float);
            Tensor cie = f.read("cie").to(torch.ScalarType.Float);
            long[] hv = Torch.toLongArray(f.read("heads"));
            if (iv.dim() != 1 || meanZ.dim() != 3 || cie.dim() != 2) {
                throw new ModelFormatException(tf, "iv", "unexpected tensor ranks");
            }
            double[] scores = new double[hv.length / 2];
            if (json.has("selected_heads")) {
                var arr = json.getAsJsonArray("selected_heads");
                for (int i = 0; i < Math.min(arr.size(), scores.length); i++) {
                    scores[i] = arr.get(i).getAsJsonObject().get("score").getAsDouble();
                }
            }
            for (int i = 0; i < hv.length / 2; i++) {
                if (hv[2 * i] < 0 || hv[2 * i] >= meanZ.size(0) || hv[2 * i + 1] < 0 || hv[2 * i + 1] >= meanZ.size(1)) {
                    throw new ModelFormatException(tf, "heads", "head (" + hv[2 * i] + ", " + hv[2 * i + 1] + ") is out of range");
                }
                heads.add(new HeadRanking.Head((int) hv[2 * i], (int) hv[2 * i + 1], scores[i]));
            }
            if (!torch.isfinite(iv).all().item_bool()) {
                throw new ModelFormatException(tf, "iv", "contains NaN or Inf");
            }
            return new InstructionVector(retain(iv), retain(meanZ), retain(cie), heads, meta);
        }
    }

    @Override
    public void close() {
        vector.releaseReference();
        meanZ.releaseReference();
        cie.releaseReference();
    }
}
