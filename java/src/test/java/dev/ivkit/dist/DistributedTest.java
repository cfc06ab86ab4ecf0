package dev.ivkit.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.train.TrainData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Data-parallel training and IV computations: 2 worker JVMs on 127.0.0.1 against one process. */
class DistributedTest {
    static LlamaModel model() {
        return ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null);
    }

    static Tokenizer tok() {
        return Tokenizer.load(SharedData.stories260K().resolve("tok512.bin"));
    }

    static List<TokenizedPrompt> prompts(Tokenizer tok) {
        return TrainData.sst2(tok, "test", 0, DistIvWorker.MEAN_PROMPTS);
    }

    private static Launcher.Spec twoWorkers(Path logs) {
        return new Launcher.Spec(2, 1, 0, "127.0.0.1", Launcher.freePort("127.0.0.1"), Duration.ofSeconds(60),
                List.of("-Xmx512m", "-Dai.djl.offline=true", "-Divkit.shared=" + SharedData.root()), logs);
    }

    private static String logs(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                sb.append("--- ").append(p.getFileName()).append('\n').append(Files.readString(p));
            }
        }
        return sb.toString();
    }

    private static List<String> trainArgs(Path data, Path out, int batch, String... extra) {
        List<String> a = new ArrayList<>(List.of("--model", SharedData.stories260K().resolve("stories260K.bin").toString(),
                "--data", data.toString(), "--out", out.toString(), "--lr", "1e-2", "--epochs", "2", "--batch",
                Integer.toString(batch), "--accum", "1", "--checkpoint-every", "2", "--lora-rank", "4", "--lora-dropout", "0"));
        a.addAll(List.of(extra));
        return a;
    }

    /** Runs DistributedTrainMain in this JVM (one process, no environment ranks); exceptions propagate. */
    private static int runInProcess(List<String> args) {
        return CommandLine.populateCommand(new DistributedTrainMain(), args.toArray(String[]::new)).call();
    }

    private static List<Double> losses(Path metrics) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            out.add(o.get("loss").getAsDouble());
        }
        return out;
    }

    /**
     * 22 examples, global micro-batch 8 (one process × 8, or two × 4): steps of 8, 8 and 6 examples, 2 epochs. The
     * two runs differ only in how the micro-batches are padded (each rank pads its 4 examples to their own longest),
     * which changes fp32 rounding in the matmuls and softmax (relative ~1e-7 per op); Adam's update size is set by the
     * lr, so the weights stay close while each step moves them by up to 1e-2. Measured: losses agree to 2e-7
     * relative, the adapters to 1.0e-6 absolute; the bounds (1e-5 relative, 2e-5 absolute) leave a 20× margin.
     */
    @Test
    @Timeout(300)
    void twoProcessesTrainLikeOneProcessWithTheGlobalBatch(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("train.jsonl");
        try (Tokenizer tok = tok()) {
            DistributedTrainMain.writeIds(data, TrainData.sst2(tok, "train", 0, 22));
        }
        assertEquals(0, runInProcess(trainArgs(data, tmp.resolve("one"), 8)));
        Path logs = tmp.resolve("logs");
        int rc = Launcher.run(twoWorkers(logs), DistributedTrainMain.class.getName(), trainArgs(data, tmp.resolve("two"), 4));
        assertEquals(0, rc, () -> {
            try {
                return logs(logs);
            } catch (Exception e) {
                return e.toString();
            }
        });
        List<Double> one = losses(tmp.resolve("one/metrics.jsonl")), two = losses(tmp.resolve("two/metrics.jsonl"));
        assertEquals(6, one.size());
        assertEquals(one.size(), two.size());
        for (int i = 0; i < one.size(); i++) {
            assertEquals(one.get(i), two.get(i), 1e-5 * Math.abs(one.get(i)), "loss at step " + (i + 1) + ": " + one + " vs " + two);
        }
        try (PointerScope s = new PointerScope()) {
            Map<String, Tensor> a = Safetensors.readAll(tmp.resolve("one/adapter/adapter_model.safetensors"));
            Map<String, Tensor> b = Safetensors.readAll(tmp.resolve("two/adapter/adapter_model.safetensors"));
            assertEquals(a.keySet(), b.keySet());
            double worst = 0;
            for (String k : a.keySet()) {
                worst = Math.max(worst, a.get(k).sub(b.get(k)).abs().max().item_double());
                Compare.assertClose(a.get(k), b.get(k), 0, 2e-5, k);
            }
            System.out.println("DistributedTest: max |Δ adapter| = " + worst + ", losses " + one + " vs " + two);
        }
        try (Stream<Path> files = Files.list(tmp.resolve("two"))) {
            assertEquals(List.of("adapter", "checkpoints", "metrics.jsonl"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }

        // resuming a finished run with the same number of processes: rank 0 shares the checkpoint, nothing changes
        byte[] adapter = Files.readAllBytes(tmp.resolve("two/adapter/adapter_model.safetensors"));
        assertEquals(0, Launcher.run(twoWorkers(logs), DistributedTrainMain.class.getName(),
                trainArgs(data, tmp.resolve("two"), 4, "--resume")), () -> {
                    try {
                        return logs(logs);
                    } catch (Exception ex) {
                        return ex.toString();
                    }
                });
        assertEquals(-1, java.util.Arrays.mismatch(adapter, Files.readAllBytes(tmp.resolve("two/adapter/adapter_model.safetensors"))));
        assertEquals(two, losses(tmp.resolve("two/metrics.jsonl")));

        // resuming with another number of processes is refused, naming both
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> runInProcess(trainArgs(data, tmp.resolve("two"), 4, "--resume")));
        assertTrue(e.getMessage().contains("2 data-parallel process") && e.getMessage().contains("this run has 1"), e.getMessage());
    }

    @Test
    @Timeout(300)
    void dataParallelMeanActivationsAndScanEqualOneProcessBitForBit(@TempDir Path tmp) throws Exception {
        Path logs = tmp.resolve("logs");
        int rc = Launcher.run(twoWorkers(logs), DistIvWorker.class.getName(), List.of(tmp.resolve("out").toString()));
        assertEquals(0, rc, () -> {
            try {
                return logs(logs);
            } catch (Exception e) {
                return e.toString();
            }
        });
        try (PointerScope s = new PointerScope(); Tokenizer tok = tok(); LlamaModel m = model()) {
            List<TokenizedPrompt> prompts = prompts(tok);
            Tensor meanZ = MeanActivations.compute(m, prompts, DistIvWorker.MEAN_BATCH);
            Compare.assertBitEqual(meanZ, Safetensors.readAll(tmp.resolve("out/mean_z.safetensors")).get("mean_z"), "mean z");
            ScanScores want = new CieScan(m, meanZ, PatchMode.ADD).scan(prompts.subList(0, DistIvWorker.SCAN_PROMPTS),
                    ScanMethod.EXACT, null);
            assertEquals(new Gson().toJson(want), Files.readString(tmp.resolve("out/scan.json")));
        }
    }

    @Test
    @Timeout(300)
    void aDeadPeerEndsTheOtherRankWithATypedError(@TempDir Path tmp) throws Exception {
        Path logs = tmp.resolve("logs");
        long t0 = System.nanoTime();
        int rc = Launcher.run(twoWorkers(logs), DistIvWorker.class.getName(), List.of(tmp.resolve("out").toString(), "die"));
        double secs = (System.nanoTime() - t0) / 1e9;
        String rank0 = Files.readString(logs.resolve("rank-0.log"));
        assertTrue(rc != 0, rank0);
        assertTrue(rank0.contains("DistributedException") && rank0.contains("a peer died or did not answer"), rank0);
        assertTrue(secs < 60 + 60, "took " + secs + " s (timeout 60 s, plus JVM start and model load)");
        assertTrue(!Files.exists(tmp.resolve("out")), "rank 0 wrote nothing");
    }

    @Test
    @Timeout(60)
    void unreachableStoreIsATypedErrorWithinTheTimeout() {
        int port = Launcher.freePort("127.0.0.1");   // nobody listens there
        ProcessGroup.loadNatives();
        long t0 = System.nanoTime();
        DistributedException e = assertThrows(DistributedException.class,
                () -> ProcessGroup.init(new DistConfig("127.0.0.1", port, 1, 2, Duration.ofSeconds(3))));
        double secs = (System.nanoTime() - t0) / 1e9;
        assertTrue(e.getMessage().contains("127.0.0.1:" + port) && e.getMessage().contains("could not reach"), e.getMessage());
        assertEquals("127.0.0.1:" + port, e.endpoint());
        assertTrue(secs < 2 * 3 + 6, "failed after " + secs + " s (TCPStore's client makes two attempts of the timeout)");
    }
}
