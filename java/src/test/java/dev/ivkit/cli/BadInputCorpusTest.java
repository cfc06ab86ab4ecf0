package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.ModelFormatException;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.model.io.HfConfig;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input corpus, run through the CLI in-process. Every case must exit with {@link Main#EXIT_BAD_INPUT}, print
 * exactly one line on stderr that names the file or argument at fault, print no stack trace and nothing on stdout, and
 * leave no file in {@code --out}. Hand-made files live in {@code src/test/resources/bad-inputs/}; damaged checkpoints
 * are generated here from a tiny random Hugging Face model or from a copy of stories260K.bin.
 */
class BadInputCorpusTest {
    @TempDir
    static Path fixtures;

    /** A valid tiny HF model directory (config.json + model.safetensors, d_model 8, context 32). */
    static Path hf;
    /** stories260K.bin and its tokenizer, from ../shared (the class is skipped without them). */
    static Path stories, tok;
    /** An instruction vector built for stories260K, and one for a model with another d_model. */
    static Path ivGood, ivOtherModel;

    static ModelConfig tinyConfig() {
        return new ModelConfig("llama", 8, 12, 2, 2, 1, 4, 10, 32, 1e-5, 10000.0, RopeStyle.HALF, null, false, false, 1, 2);
    }

    @BeforeAll
    static void build() {
        Torch.init();
        stories = SharedData.stories260K().resolve("stories260K.bin");
        tok = SharedData.stories260K().resolve("tok512.bin");
        hf = fixtures.resolve("hf");
        writeHf(hf, tinyConfig(), w -> {});
        ivGood = fixtures.resolve("iv-good");
        try (LlamaModel m = ModelLoader.load(stories, null)) {
            saveIv(m, ivGood);
        }
        ivOtherModel = fixtures.resolve("iv-other");
        ModelConfig other = new ModelConfig("llama", 32, 48, 2, 4, 2, 8, 512, 64, 1e-5, 10000.0, RopeStyle.HALF, null,
                false, false, 1, 2);
        try (LlamaModel m = TestModels.random(other, 3)) {
            saveIv(m, ivOtherModel);
        }
    }

    static void saveIv(LlamaModel m, Path dir) {
        ModelConfig c = m.config();
        try (PointerScope s = new PointerScope()) {
            Tensor meanZ = torch.randn(c.nLayers(), c.nHeads(), c.headDim());
            double[][] scores = new double[c.nLayers()][c.nHeads()];
            scores[0][1] = 1;
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("layer", 1);
            try (InstructionVector iv = InstructionVector.build(m, meanZ, scores,
                    List.of(new HeadRanking.Head(0, 1, 1.0)), meta)) {
                iv.save(dir);
            }
        }
    }

    /** config.json + model.safetensors for {@code cfg}, random weights edited by {@code edit} (no validation). */
    static void writeHf(Path dir, ModelConfig cfg, Consumer<LinkedHashMap<String, Tensor>> edit) {
        TestModels.writeHf(dir, cfg, 1.0, edit);
    }

    // ------------------------------------------------------------------------------------- building bad files

    static Path resource(String name) {
        try {
            return Path.of(BadInputCorpusTest.class.getResource("/bad-inputs/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path p, byte[] bytes) {
        try {
            Files.createDirectories(p.getParent());
            Files.write(p, bytes);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy of the tiny HF model in {@code dir}/model whose model.safetensors is replaced by {@code damage(bytes)}. */
    static Path hfWith(Path dir, Function<byte[], byte[]> damage) {
        Path m = dir.resolve("model");
        write(m.resolve(HfConfig.FILE_NAME), read(hf.resolve(HfConfig.FILE_NAME)));
        write(m.resolve(HfCheckpoint.WEIGHTS), damage.apply(read(hf.resolve(HfCheckpoint.WEIGHTS))));
        return m;
    }

    /** The safetensors file with its JSON header edited (and the length field rewritten to match, or to {@code lie}). */
    static Function<byte[], byte[]> header(Consumer<JsonObject> edit, long lie) {
        return b -> {
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) bb.getLong(0);
            JsonObject h = JsonParser.parseString(new String(b, 8, n, StandardCharsets.UTF_8)).getAsJsonObject();
            edit.accept(h);
            byte[] nh = h.toString().getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(8 + nh.length + b.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(lie >= 0 ? lie : nh.length).put(nh).put(b, 8 + n, b.length - 8 - n);
            return out.array();
        };
    }

    static Function<byte[], byte[]> header(Consumer<JsonObject> edit) {
        return header(edit, -1);
    }

    /** The header entry of the n-th tensor the config implies. */
    static JsonObject tensor(JsonObject h, int n) {
        return h.getAsJsonObject(tensorName(n));
    }

    static String tensorName(int n) {
        return new ArrayList<>(HfCheckpoint.expectedShapes(tinyConfig()).keySet()).get(n);
    }

    /** A copy of stories260K.bin with {@code edit} applied to its bytes. */
    static Path storiesWith(Path dir, Consumer<ByteBuffer> edit) {
        byte[] b = read(stories);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        edit.accept(bb);
        return write(dir.resolve("model.bin"), b);
    }

    static Path longTask(Path dir) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 20; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"input\": \"").append("once upon a time there was a dog. ".repeat(60))
                    .append(i).append("\", \"output\": \"cat\"}");
        }
        return write(dir.resolve("long.json"), sb.append("]").toString().getBytes(StandardCharsets.UTF_8));
    }

    // ------------------------------------------------------------------------------------------------- cases

    /**
     * @param args      the CLI arguments, given a fresh folder for the case's files; {@code OUT} is replaced by
     *                  the case's output folder
     * @param fragments pieces the one stderr line must contain (file names, fields, the problem)
     */
    record Case(String name, Function<Path, List<String>> args, String... fragments) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<String> info(Path model) {
        return List.of("info", "--model", model.toString());
    }

    static List<String> probe(Path task, String... extra) {
        List<String> a = new ArrayList<>(List.of("probe", "--model", stories.toString(), "--task", task.toString(),
                "--prompts", "2", "--out", "OUT"));
        a.addAll(Arrays.asList(extra));
        return a;
    }

    static List<String> scan(Path task, String... extra) {
        List<String> a = new ArrayList<>(List.of("scan", "--model", stories.toString(), "--task", task.toString(),
                "--prompts", "2", "--mean-prompts", "2", "--out", "OUT"));
        a.addAll(Arrays.asList(extra));
        return a;
    }

    static List<String> evaluate(Path iv, String... extra) {
        List<String> a = new ArrayList<>(List.of("evaluate", "--model", stories.toString(), "--iv", iv.toString(),
                "--task", resource("task-five-records.json").toString(), "--prompts", "1", "--max-new-tokens", "1",
                "--out", "OUT"));
        a.addAll(Arrays.asList(extra));
        return a;
    }

    static Stream<Case> cases() {
        String w0 = tensorName(0), w1 = tensorName(1), st = HfCheckpoint.WEIGHTS;
        String norm0 = "model.layers.0.input_layernorm.weight", norm1 = "model.layers.0.post_attention_layernorm.weight";
        return Stream.of(
            // ---- safetensors: truncated and lying headers
            new Case("safetensors truncated in the data", d -> info(hfWith(d, b -> Arrays.copyOf(b, b.length * 2 / 3))),
                    st, "out of range"),
            new Case("safetensors truncated in the header", d -> info(hfWith(d, b -> Arrays.copyOf(b, 40))),
                    st, "header length", "exceeds file size"),
            new Case("safetensors shorter than its length field", d -> info(hfWith(d, b -> Arrays.copyOf(b, 5))),
                    st, "too short"),
            new Case("safetensors header length larger than the file", d -> info(hfWith(d, header(h -> {}, 1 << 20))),
                    st, "header length", "exceeds file size"),
            new Case("safetensors header length too small", d -> info(hfWith(d, header(h -> {}, 20))),
                    st, "header", "not valid JSON"),
            new Case("safetensors offsets past the data", d -> info(hfWith(d, header(h -> {
                JsonArray o = tensor(h, 0).getAsJsonArray("data_offsets");
                o.set(1, new com.google.gson.JsonPrimitive(o.get(1).getAsLong() + (1L << 30)));
            }))), st, w0, "data_offsets"),
            new Case("safetensors unknown dtype", d -> info(hfWith(d, header(h -> tensor(h, 0).addProperty("dtype", "F9")))),
                    st, w0, "unknown dtype F9"),
            new Case("safetensors integer dtype", d -> info(hfWith(d, header(h -> tensor(h, 0).addProperty("dtype", "I32")))),
                    st, w0, "not a floating-point"),
            new Case("safetensors overlapping ranges", d -> info(hfWith(d, header(h -> h.getAsJsonObject(norm1).add("data_offsets",
                    h.getAsJsonObject(norm0).get("data_offsets").deepCopy())))), st, "overlaps"),
            new Case("safetensors shape that lies about the size", d -> info(hfWith(d, header(h -> {
                JsonArray shape = tensor(h, 0).getAsJsonArray("shape");
                shape.set(0, new com.google.gson.JsonPrimitive(shape.get(0).getAsLong() + 1));
            }))), st, w0, "needs"),
            // ---- config.json against the weights
            new Case("config.json contradicts the weights", d -> {
                Path m = hfWith(d, b -> b);
                String c = new String(read(m.resolve(HfConfig.FILE_NAME)), StandardCharsets.UTF_8);
                write(m.resolve(HfConfig.FILE_NAME), c.replace("\"intermediate_size\": 12", "\"intermediate_size\": 16")
                        .replace("\"intermediate_size\":12", "\"intermediate_size\":16").getBytes(StandardCharsets.UTF_8));
                return info(m);
            }, st, "contradicts config.json"),
            new Case("config.json is not JSON", d -> {
                Path m = hfWith(d, b -> b);
                write(m.resolve(HfConfig.FILE_NAME), "{\"hidden_size\": 8,".getBytes(StandardCharsets.UTF_8));
                return info(m);
            }, "config.json"),
            // ---- NaN / Inf weights
            new Case("NaN in a safetensors weight", d -> {
                writeHf(d.resolve("nan"), tinyConfig(), w -> w.put(w1, w.get(w1).mul(new org.bytedeco.pytorch.Scalar(Double.NaN))));
                // info reads headers only; --check reads every weight (generate, scan, ... check as they load)
                return List.of("info", "--check", "--model", d.resolve("nan").toString());
            }, st, w1, "NaN or Inf"),
            new Case("Inf in a llama2.c weight", d -> info(storiesWith(d, b -> b.putFloat(28 + 4 * 1000, Float.POSITIVE_INFINITY))),
                    "model.bin", "model.embed_tokens.weight", "NaN or Inf"),
            // ---- llama2.c: truncated, lying header
            new Case("llama2.c checkpoint truncated", d -> {
                Path p = d.resolve("model.bin");
                write(p, Arrays.copyOf(read(stories), 500_000));
                return info(p);
            }, "model.bin", "truncated"),
            new Case("llama2.c header claims 1000 layers", d -> info(storiesWith(d, b -> b.putInt(8, 1000))),
                    "model.bin", "truncated", "header implies"),
            new Case("llama2.c header with n_heads 0", d -> info(storiesWith(d, b -> b.putInt(12, 0))),
                    "model.bin", "n_heads"),
            new Case("llama2.c tokenizer truncated", d -> {
                Path t = write(d.resolve("tok.bin"), Arrays.copyOf(read(tok), 1000));
                return List.of("generate", "--model", stories.toString(), "--tokenizer", t.toString(), "--max-new-tokens", "2");
            }, "tok.bin"),
            // ---- task JSON
            new Case("malformed task JSON", d -> probe(resource("task-malformed.json")), "task-malformed.json record 2",
                    "malformed JSON"),
            new Case("empty task file", d -> scan(resource("task-empty.json")), "task-empty.json", "no records"),
            new Case("empty task array", d -> probe(resource("task-empty-array.json")), "task-empty-array.json", "no records"),
            new Case("record without output", d -> scan(resource("task-missing-output.json")),
                    "task-missing-output.json record 1", "missing \"output\""),
            new Case("SuperNI instance with an empty output", d -> probe(resource("superni-empty-output.json")),
                    "superni-empty-output.json record 0", "empty array"),
            new Case("fewer records than shots", d -> scan(resource("task-five-records.json"), "--shots", "5"),
                    "shots", "task-five-records.json has 5 records"),
            new Case("task file that does not exist", d -> probe(d.resolve("nope.json")), "nope.json"),
            // ---- out-of-range layer / head / position / counts
            new Case("extract --layer 99", d -> List.of("extract", "--model", stories.toString(), "--scan", d.toString(),
                    "--layer", "99", "--out", "OUT"), "layer", "99 is out of range [0, 5)"),
            new Case("evaluate --layer -3", d -> evaluate(ivGood, "--layer", "-3"), "layer", "-3"),
            new Case("evaluate --layer 5 (one past the last)", d -> evaluate(ivGood, "--layer", "5"), "layer", "5"),
            new Case("scan --prompts 0", d -> List.of("scan", "--model", stories.toString(), "--task",
                    resource("task-five-records.json").toString(), "--prompts", "0", "--shots", "1", "--out", "OUT"), "prompts"),
            new Case("probe --shots -1", d -> probe(resource("task-five-records.json"), "--shots", "-1"), "shots"),
            new Case("generate --top-p 1.5", d -> List.of("generate", "--model", stories.toString(), "--top-p", "1.5"),
                    "top"),
            new Case("generate --max-new-tokens -1", d -> List.of("generate", "--model", stories.toString(),
                    "--max-new-tokens", "-1"), "max"),
            // ---- prompts longer than the context (stories260K: 512 tokens)
            new Case("generate prompt longer than the context", d -> List.of("generate", "--model", stories.toString(),
                    "--prompt", "once upon a time there was a dog. ".repeat(120), "--max-new-tokens", "4"),
                    "prompt", "exceed the context length 512"),
            new Case("probe with every prompt longer than the context", d -> probe(longTask(d), "--shots", "1"),
                    "prompts", "longer than the model's context of 512"),
            // ---- instruction vectors
            new Case("IV whose d_model does not match the model", d -> evaluate(ivOtherModel), "iv.safetensors", "d_model",
                    "32", "64"),
            new Case("IV folder without iv.safetensors", d -> evaluate(d), "iv.safetensors", "missing"),
            new Case("IV with a NaN", d -> {
                Path iv = d.resolve("iv");
                write(iv.resolve(InstructionVector.METADATA), read(ivGood.resolve(InstructionVector.METADATA)));
                try (PointerScope s = new PointerScope()) {
                    LinkedHashMap<String, Tensor> t = Safetensors.readAll(ivGood.resolve(InstructionVector.TENSORS));
                    t.put("iv", t.get("iv").clone().fill_(new org.bytedeco.pytorch.Scalar(Double.NaN)));
                    Safetensors.write(iv.resolve(InstructionVector.TENSORS), t, Map.of());
                }
                return evaluate(iv);
            }, "iv.safetensors", "NaN"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void failsWithOneNamedLineExitTwoAndNoOutput(Case c, @TempDir Path dir) throws IOException {
        Path out = dir.resolve("out");
        Path files = Files.createDirectories(dir.resolve("files"));
        String[] args = c.args().apply(files).stream().map(a -> a.equals("OUT") ? out.toString() : a).toArray(String[]::new);
        CliTest.Run r = CliTest.run(args);
        String err = r.err().strip();
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), () -> c.name() + ": exit " + r.code() + ", stderr: " + r.err());
        assertEquals(1, err.lines().count(), () -> "one line on stderr: " + r.err());
        assertTrue(err.startsWith("ivkit: "), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), () -> "no stack trace or exception name: " + err);
        for (String f : c.fragments()) {
            assertTrue(err.contains(f), () -> "stderr should contain '" + f + "': " + err);
        }
        assertEquals("", r.out(), "nothing on stdout");
        if (Files.exists(out)) {
            try (Stream<Path> s = Files.walk(out)) {
                List<Path> left = s.filter(Files::isRegularFile).toList();
                assertEquals(List.of(), left, "no (partial) output file may be left");
            }
        }
    }

    /** No CLI command loads an adapter yet: the library call must refuse an adapter made for another model. */
    @Test
    void adapterForAnotherModelIsRefused(@TempDir Path dir) throws IOException {
        ModelConfig storiesCfg;
        try (LlamaModel m = ModelLoader.load(stories, null)) {
            storiesCfg = m.config();
        }
        try (LoraAdapter a = LoraAdapter.create(tinyConfig(), LoraConfig.defaults(), 1)) {
            a.save(dir.resolve("adapter"));
        }
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> LoraAdapter.load(dir.resolve("adapter"), storiesCfg));
        assertEquals(LoraAdapter.WEIGHTS, e.file().getFileName().toString(), e.getMessage());
        assertTrue(e.field() != null && e.field().contains("lora_"), e.getMessage());
        assertTrue(e.getMessage().contains("does not fit this model") || e.getMessage().contains("another model"),
                e.getMessage());

        Path bad = Files.createDirectories(dir.resolve("bad-config"));
        Files.copy(resource("adapter_config-bad-rank.json"), bad.resolve(LoraAdapter.CONFIG));
        ModelFormatException c = assertThrows(ModelFormatException.class, () -> LoraAdapter.load(bad, storiesCfg));
        assertEquals(LoraAdapter.CONFIG, c.file().getFileName().toString(), c.getMessage());
    }
}
