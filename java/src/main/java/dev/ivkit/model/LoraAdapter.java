package dev.ivkit.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
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
 * LoRA weights for one model: per target module, A [rank, in] and B [out, rank], float32, trainable. Initialised as
 * PEFT does (A ~ U(−1/√in, 1/√in) — kaiming-uniform with a = √5 — and B = 0, so a fresh adapter changes nothing).
 * Saved and loaded in PEFT's layout: {@code adapter_config.json} + {@code adapter_model.safetensors} with tensor names
 * {@code base_model.model.<module>.lora_A.weight} / {@code lora_B.weight}, so Python users can load it.
 * Owns its tensors.
 */
public final class LoraAdapter implements AutoCloseable {
    /** File name of the adapter's configuration (PEFT layout). */
    public static final String CONFIG = "adapter_config.json";
    /** File name of the adapter's weights (PEFT layout). */
    public static final String WEIGHTS = "adapter_model.safetensors";

    private final LoraConfig config;
    private final Map<String, Tensor[]> ab = new LinkedHashMap<>();  // module path -> {A, B}
    private final Map<String, Object> extra = new LinkedHashMap<>();

    private LoraAdapter(LoraConfig config) {
        this.config = config;
    }

    /**
     * A fresh adapter for {@code model}'s shapes, seeded.
     *
     * @param mc     the model's configuration (the adapted projections' shapes)
     * @param config rank, alpha, dropout and target modules
     * @param seed   seed of A's initialisation
     * @return a new adapter (B = 0: it changes nothing yet)
     */
    public static LoraAdapter create(ModelConfig mc, LoraConfig config, long seed) {
        LoraAdapter a = new LoraAdapter(config);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        for (int l = 0; l < mc.nLayers(); l++) {
            for (String m : config.targets()) {
                long[] io = inOut(mc, m);
                double bound = 1.0 / Math.sqrt(io[0]);
                float[] init = new float[(int) (config.rank() * io[0])];
                for (int i = 0; i < init.length; i++) {
                    init[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
                }
                Tensor A = torch.tensor(init).reshape(config.rank(), io[0]);
                Tensor B = torch.zeros(new long[] {io[1], config.rank()}, Torch.options(torch.ScalarType.Float));
                a.put(LoraConfig.modulePath(l, m), A, B);
            }
        }
        return a;
    }

    /**
     * Moves every A and B to {@code device} (no-op when they are there): they become new leaf tensors there (fp32,
     * requiring grad), so build optimizers after attaching an adapter to a model.
     *
     * @param device where the weights go
     */
    public void moveTo(Device device) {
        for (Map.Entry<String, Tensor[]> e : ab.entrySet()) {
            Tensor[] w = e.getValue();
            if (Device.of(w[0]).equals(device) && Device.of(w[1]).equals(device)) {
                continue;
            }
            try (org.bytedeco.javacpp.PointerScope s = new org.bytedeco.javacpp.PointerScope()) {
                Tensor a = w[0].detach().to(device.torch(), torch.ScalarType.Float);
                Tensor b = w[1].detach().to(device.torch(), torch.ScalarType.Float);
                w[0].releaseReference();
                w[1].releaseReference();
                put(e.getKey(), a, b);
            }
        }
    }

    private void put(String path, Tensor A, Tensor B) {
        A = A.contiguous();
        B = B.contiguous();
        A.requires_grad_(true);
        B.requires_grad_(true);
        A.retainReference();
        B.retainReference();
        ab.put(path, new Tensor[] {A, B});
    }

    /** {in, out} features of a target module. */
    static long[] inOut(ModelConfig c, String module) {
        long d = c.dModel(), q = (long) c.nHeads() * c.headDim(), kv = (long) c.nKvHeads() * c.headDim(), h = c.hiddenDim();
        return switch (module) {
            case "q_proj" -> new long[] {d, q};
            case "k_proj", "v_proj" -> new long[] {d, kv};
            case "o_proj" -> new long[] {q, d};
            case "gate_proj", "up_proj" -> new long[] {d, h};
            case "down_proj" -> new long[] {h, d};
            default -> throw new InvalidArgumentException("targets", "unknown module " + module);
        };
    }

    /**
     * Rank, alpha, dropout and target modules.
     *
     * @return the adapter's configuration
     */
    public LoraConfig config() {
        return config;
    }

    /**
     * {A, B} of a module path, or null when the module is not adapted.
     *
     * @param modulePath a module path such as {@code model.layers.3.self_attn.q_proj}
     * @return {A, B}, or null
     */
    public Tensor[] weights(String modulePath) {
        return ab.get(modulePath);
    }

    /**
     * {A, B} of every adapted module, by module path, in layer order.
     *
     * @return the weights (unmodifiable)
     */
    public Map<String, Tensor[]> all() {
        return java.util.Collections.unmodifiableMap(ab);
    }

    /**
     * The trainable tensors, in a fixed order (A then B per module, modules in layer order).
     *
     * @return the A and B tensors
     */
    public List<Tensor> parameters() {
        List<Tensor> out = new ArrayList<>();
        for (Tensor[] t : ab.values()) {
            out.add(t[0]);
            out.add(t[1]);
        }
        return out;
    }

    /**
     * Free-form fields written into adapter_config.json (e.g. base_model_name_or_path, model fingerprint).
     *
     * @return the mutable map of extra fields
     */
    public Map<String, Object> extraConfig() {
        return extra;
    }

    /**
     * Writes adapter_config.json and adapter_model.safetensors (PEFT layout), each atomically.
     *
     * @param dir the folder to write into
     */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new InvalidArgumentException("out", "cannot create " + dir + ": " + e.getMessage());
        }
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor[]> e : ab.entrySet()) {
            t.put("base_model.model." + e.getKey() + ".lora_A.weight", e.getValue()[0].detach());
            t.put("base_model.model." + e.getKey() + ".lora_B.weight", e.getValue()[1].detach());
        }
        Safetensors.write(dir.resolve(WEIGHTS), t, Map.of("format", "pt"));
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("peft_type", "LORA");
        cfg.put("task_type", "CAUSAL_LM");
        cfg.put("r", config.rank());
        cfg.put("lora_alpha", config.alpha());
        cfg.put("lora_dropout", config.dropout());
        cfg.put("target_modules", config.targets());
        cfg.put("bias", "none");
        cfg.put("fan_in_fan_out", false);
        cfg.put("inference_mode", true);
        cfg.putAll(extra);
        Gson gson = new GsonBuilder().setPrettyPrinting().create();
        AtomicFiles.writeString(dir.resolve(CONFIG), gson.toJson(cfg));
    }

    /**
     * Reads a PEFT LoRA adapter and checks it against the model's shapes (typed errors naming file and tensor).
     *
     * @param dir the adapter's folder
     * @param mc  the model's configuration
     * @return the adapter
     */
    public static LoraAdapter load(Path dir, ModelConfig mc) {
        Path cf = dir.resolve(CONFIG), wf = dir.resolve(WEIGHTS);
        JsonObject j;
        try {
            j = JsonParser.parseString(Files.readString(cf)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(cf, null, "cannot read adapter config: " + e.getMessage(), e);
        }
        LoraConfig config;
        try {
            if (j.has("peft_type") && !"LORA".equals(j.get("peft_type").getAsString())) {
                throw new ModelFormatException(cf, "peft_type", "not a LoRA adapter: " + j.get("peft_type").getAsString());
            }
            List<String> targets = new ArrayList<>();
            j.getAsJsonArray("target_modules").forEach(e -> targets.add(e.getAsString()));
            config = new LoraConfig(j.get("r").getAsInt(), j.get("lora_alpha").getAsDouble(),
                    j.has("lora_dropout") ? j.get("lora_dropout").getAsDouble() : 0.0, targets);
        } catch (ModelFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelFormatException(cf, null, "invalid adapter config: " + e.getMessage(), e);
        }
        LoraAdapter a = new LoraAdapter(config);
        for (String k : j.keySet()) {
            if (k.equals("ivkit_model_fingerprint") || k.equals("base_model_name_or_path")) {
                a.extra.put(k, j.get(k).getAsString());
            }
        }
        try (SafetensorsFile f = Safetensors.open(wf)) {
            for (int l = 0; l < mc.nLayers(); l++) {
                for (String m : config.targets()) {
                    String path = LoraConfig.modulePath(l, m);
                    long[] io = inOut(mc, m);
                    Tensor A = read(f, wf, "base_model.model." + path + ".lora_A.weight", new long[] {config.rank(), io[0]});
                    Tensor B = read(f, wf, "base_model.model." + path + ".lora_B.weight", new long[] {io[1], config.rank()});
                    a.put(path, A, B);
                }
            }
            int expected = 2 * mc.nLayers() * config.targets().size();
            if (f.names().size() != expected) {
                throw new ModelFormatException(wf, null, "holds " + f.names().size() + " tensors, expected " + expected
                        + " for " + mc.nLayers() + " layers × " + config.targets());
            }
        }
        return a;
    }

    private static Tensor read(SafetensorsFile f, Path file, String name, long[] shape) {
        if (!f.contains(name)) {
            throw new ModelFormatException(file, name, "tensor is missing (adapter for another model?)");
        }
        Tensor t = f.read(name);
        if (!java.util.Arrays.equals(Torch.sizes(t), shape)) {
            throw new ModelFormatException(file, name, "shape " + Torch.shape(t) + " does not fit this model (expected "
                    + java.util.Arrays.toString(shape) + ")");
        }
        Tensor out = t.to(torch.ScalarType.Float).clone();
        if (!torch.isfinite(out).all().item_bool()) {
            throw new ModelFormatException(file, name, "contains NaN or Inf");
        }
        return out;
    }

    @Override
    public void close() {
        for (Tensor[] t : ab.values()) {
            t[0].releaseReference();
            t[1].releaseReference();
        }
        ab.clear();
    }
}
