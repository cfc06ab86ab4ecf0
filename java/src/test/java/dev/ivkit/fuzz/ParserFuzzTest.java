package dev.ivkit.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ivkit.IvkitException;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.model.Checkpoint;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.io.HfConfig;
import dev.ivkit.model.io.Llama2cCheckpoint;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.io.SafetensorsFile;
import dev.ivkit.model.tokenizer.Llama2cTokenizer;
import dev.ivkit.util.Torch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded mutational fuzzing of the file readers: every input must either load or fail with an {@link IvkitException}
 * subclass; anything else (an unchecked JDK or Gson exception, an OutOfMemoryError, a native error) is a crash, saved
 * under {@code target/fuzz-crashes/}. {@code -Dfuzz.iterations=N} inputs per reader (CI: the small default in the
 * pom; {@code mvn -Pfuzz} runs 100,000 each), {@code -Dfuzz.seed=S} changes the inputs.
 */
class ParserFuzzTest {
    static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 600);
    static final long SEED = Long.getLong("fuzz.seed", 20240611L);

    @TempDir
    static Path tmp;

    interface Target {
        void run(Path file) throws Exception;
    }

    /** A reader, its seed inputs, the file name it reads, and whether the mutator should treat them as text. */
    record Fuzzed(String name, String fileName, boolean text, List<byte[]> seeds, Target target) {
        @Override
        public String toString() {
            return name;
        }
    }

    static ModelConfig tinyConfig() {
        return new ModelConfig("llama", 8, 12, 1, 2, 1, 4, 10, 16, 1e-5, 10000.0, RopeStyle.HALF, null, false, false, 1, 2);
    }

    static Path adapterDir;

    @BeforeAll
    static void init() {
        Torch.init();
        adapterDir = tmp.resolve("adapter");
        try (LoraAdapter a = LoraAdapter.create(tinyConfig(), new LoraConfig(2, 4, 0, List.of("q_proj", "v_proj")), 1)) {
            a.save(adapterDir);
        }
    }

    // ------------------------------------------------------------------------------------------------ seeds

    static byte[] safetensorsSeed() throws IOException {
        Path p = tmp.resolve("seed.safetensors");
        try (PointerScope s = new PointerScope()) {
            LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("a", torch.randn(2, 3));
            t.put("b", torch.ones(4).to(torch.ScalarType.BFloat16));
            t.put("c", Torch.fromLongs(1, 2, 3));
            Safetensors.write(p, t, Map.of("format", "pt"));
        }
        return Files.readAllBytes(p);
    }

    /** A llama2.c checkpoint: dim 8, hidden 12, 1 layer, 2 heads, vocab 6, seq 4; legacy or version-1 layout. */
    static byte[] llama2cSeed(boolean v1, boolean shared) {
        int dim = 8, hid = 12, layers = 1, heads = 2, kv = 2, vocab = 6, seq = 4, head = dim / heads;
        long floats = (long) vocab * dim + layers * (2L * dim + 4L * dim * dim + 3L * dim * hid) + dim
                + (v1 ? 0 : (long) seq * head) + (shared ? 0 : (long) vocab * dim);
        int headerBytes = v1 ? 256 : 28;
        ByteBuffer b = ByteBuffer.allocate((int) (headerBytes + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        if (v1) {
            b.putInt(0x616b3432).putInt(1);
        }
        b.putInt(dim).putInt(hid).putInt(layers).putInt(heads).putInt(kv).putInt(v1 || shared ? vocab : -vocab).putInt(seq);
        if (v1) {
            b.put((byte) (shared ? 1 : 0));
        }
        b.position(headerBytes);
        SplittableRandom r = new SplittableRandom(1);
        while (b.hasRemaining()) {
            b.putFloat((float) r.nextGaussian());
        }
        return b.array();
    }

    static byte[] tokenizerSeed() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<byte[]> pieces = new ArrayList<>();
        pieces.add("<unk>".getBytes(StandardCharsets.UTF_8));
        pieces.add("\n<s>\n".getBytes(StandardCharsets.UTF_8));
        pieces.add("\n</s>\n".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 256; i++) {
            pieces.add(String.format("<0x%02X>", i).getBytes(StandardCharsets.UTF_8));
        }
        for (String s : new String[] {" a", "ab", " the", "é", "Once"}) {
            pieces.add(s.getBytes(StandardCharsets.UTF_8));
        }
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(8);
        out.writeBytes(h.array());
        float score = 0;
        for (byte[] p : pieces) {
            ByteBuffer e = ByteBuffer.allocate(8 + p.length).order(ByteOrder.LITTLE_ENDIAN);
            e.putFloat(score -= 0.5f).putInt(p.length).put(p);
            out.writeBytes(e.array());
        }
        return out.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Stream<Fuzzed> targets() throws IOException {
        return Stream.of(
            new Fuzzed("safetensors", "x.safetensors", false, List.of(safetensorsSeed()), f -> {
                try (PointerScope s = new PointerScope(); SafetensorsFile sf = Safetensors.open(f)) {
                    for (String n : sf.names()) {
                        sf.read(n);
                    }
                    sf.metadata();
                }
            }),
            new Fuzzed("llama2c-checkpoint", "x.bin", false,
                    List.of(llama2cSeed(false, true), llama2cSeed(false, false), llama2cSeed(true, true)), f -> {
                try (PointerScope s = new PointerScope()) {
                    Checkpoint c = Llama2cCheckpoint.load(f);
                    c.weights().values().forEach(Tensor::close);
                }
            }),
            new Fuzzed("llama2c-tokenizer", "tok.bin", false, List.of(tokenizerSeed()), f -> {
                try (Llama2cTokenizer t = Llama2cTokenizer.load(f)) {
                    t.decode(t.encode("Once the ab é", true));
                }
            }),
            new Fuzzed("task-function-vector", "antonym.json", true, List.of(
                    utf8("[{\"input\": \"hot\", \"output\": \"cold\"}, {\"input\": \"up\", \"output\": \"down\"},\n"
                            + " {\"instruction\": \"big\", \"output\": \"small\"}]")), TaskDataset::loadFunctionVector),
            new Fuzzed("task-superni", "task1_x.json", true, List.of(utf8("{\"Definition\": [\"Say the opposite.\"], "
                    + "\"Positive Examples\": [{\"input\": \"a\", \"output\": \"b\", \"explanation\": \"e\"}], "
                    + "\"Instances\": [{\"id\": \"1\", \"input\": \"hot\", \"output\": [\"cold\", \"cool\"]}, "
                    + "{\"input\": \"up\", \"output\": [\"down\"]}]}")), TaskDataset::loadSuperNiOriginal),
            new Fuzzed("hf-config.json", "config.json", true, List.of(configSeed()), HfConfig::read),
            new Fuzzed("adapter_config.json", LoraAdapter.CONFIG, true,
                    List.of(Files.readAllBytes(adapterDir.resolve(LoraAdapter.CONFIG))), f -> {
                Path w = f.resolveSibling(LoraAdapter.WEIGHTS);
                if (!Files.exists(w)) {
                    Files.copy(adapterDir.resolve(LoraAdapter.WEIGHTS), w);
                }
                try (PointerScope s = new PointerScope(); LoraAdapter a = LoraAdapter.load(f.getParent(), tinyConfig())) {
                    a.parameters();
                }
            }));
    }

    static byte[] configSeed() {
        Path d = tmp.resolve("cfg");
        HfConfig.write(d, new ModelConfig("llama", 8, 12, 1, 2, 1, 4, 10, 16, 1e-5, 10000.0, RopeStyle.HALF,
                null, false, false, 1, 2));
        try {
            return Files.readAllBytes(d.resolve(HfConfig.FILE_NAME));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------- run

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void everyFailureIsTyped(Fuzzed t) throws Exception {
        List<String> crashes = new ArrayList<>();
        Map<String, Integer> outcomes = fuzz(t, ITERATIONS, crashes);
        assertEquals(List.of(), crashes, t.name() + ": untyped failures " + outcomes);
        assertEquals(ITERATIONS, outcomes.values().stream().mapToInt(Integer::intValue).sum());
    }

    /** Runs {@code iterations} inputs through one reader; returns the outcome counts and adds crashes to the list. */
    static Map<String, Integer> fuzz(Fuzzed t, int iterations, List<String> crashes) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("run-" + t.name()));
        Path file = dir.resolve(t.fileName());
        Mutator m = new Mutator(SEED ^ t.name().hashCode(), t.text());
        SplittableRandom pick = new SplittableRandom(SEED + t.name().length());
        Map<String, Integer> outcomes = new TreeMap<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            byte[] seed = t.seeds().get(pick.nextInt(t.seeds().size()));
            byte[] input = i < t.seeds().size() ? t.seeds().get(i) : m.mutate(seed);
            Files.write(file, input);
            String outcome;
            try {
                t.target().run(file);
                outcome = "ok";
            } catch (IvkitException e) {
                outcome = e.getClass().getSimpleName();
            } catch (Throwable e) {  // a crash: anything untyped, including errors
                outcome = "CRASH " + e.getClass().getName();
                if (crashes.size() < 5) {
                    crashes.add(t.name() + " input " + i + " (" + save(t.name(), i, input) + "): " + e);
                }
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("fuzz %-22s %,8d inputs in %6.1f s, seed %d: %s%n", t.name(), iterations, secs, SEED, outcomes);
        return outcomes;
    }

    /**
     * The long run outside Maven (so it can run beside a build): {@code java -cp <test classpath>
     * -Dfuzz.iterations=100000 dev.ivkit.fuzz.ParserFuzzTest}. Exits 1 on any crash.
     */
    public static void main(String[] args) throws Exception {
        Path shm = Path.of("/dev/shm");
        tmp = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")), "ivkit-fuzz");
        init();
        List<String> crashes = new ArrayList<>();
        for (Fuzzed t : targets().toList()) {
            if (args.length == 0 || List.of(args).contains(t.name())) {
                fuzz(t, ITERATIONS, crashes);
            }
        }
        crashes.forEach(System.out::println);
        System.out.println(crashes.isEmpty() ? "fuzz: 0 crashes" : "fuzz: CRASHES");
        System.exit(crashes.isEmpty() ? 0 : 1);
    }

    private static String save(String target, int i, byte[] input) {
        try {
            Path d = Files.createDirectories(Path.of("target", "fuzz-crashes"));
            Path f = d.resolve(target + "-" + SEED + "-" + i + ".bin");
            Files.write(f, input);
            return f.toString();
        } catch (IOException e) {
            return "not saved: " + e.getMessage();
        }
    }
}
