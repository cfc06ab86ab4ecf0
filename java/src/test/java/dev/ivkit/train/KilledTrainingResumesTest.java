package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.testutil.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real SIGKILL: training runs in a child JVM, which is killed ({@link Process#destroyForcibly()}) at a random moment
 * after its first checkpoint appears; the run resumed from that checkpoint must end with the same metrics.jsonl and a
 * byte-identical adapter as an uninterrupted run (CPU, one thread: bit-exact). TrainerTest covers the in-process
 * interruption (an exception thrown from the step hook).
 */
class KilledTrainingResumesTest {
    @Test
    void killedRunResumesToTheSameMetricsAndAdapter(@TempDir Path tmp) throws Exception {
        SharedData.stories260K();
        SharedData.require("superni/sapo");
        Path full = tmp.resolve("full"), cut = tmp.resolve("cut");
        TrainChild.run(full, false, 0);

        long seed = System.nanoTime();
        long delayMs = new Random(seed).nextInt(400);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-Divkit.shared=" + SharedData.root(), "-cp",
                System.getProperty("java.class.path"), TrainChild.class.getName(), cut.toString(), "fresh", "250"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process child = pb.start();
        Path latest = cut.resolve("checkpoints").resolve("latest.json");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!Files.exists(latest) && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(latest), () -> "the child wrote no checkpoint: " + log(tmp));
            Thread.sleep(delayMs);
            assertTrue(child.isAlive(), "the child finished before it was killed (10 steps, 250 ms pause each)");
            child.destroyForcibly();  // SIGKILL
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        assertEquals(137, child.exitValue(), "killed by SIGKILL");
        assertFalse(Files.exists(cut.resolve("adapter")), "the killed run had not finished");
        System.out.println("kill-resume: killed " + delayMs + " ms after the first checkpoint (seed " + seed + "), state "
                + Files.readString(latest).strip());

        TrainChild.run(cut, true, 0);
        assertEquals(Files.readString(full.resolve("metrics.jsonl")), Files.readString(cut.resolve("metrics.jsonl")));
        assertEquals(-1, Files.mismatch(full.resolve("adapter/adapter_model.safetensors"),
                cut.resolve("adapter/adapter_model.safetensors")), "final adapters are byte-identical");
        assertEquals(-1, Files.mismatch(full.resolve("adapter/adapter_config.json"), cut.resolve("adapter/adapter_config.json")));
    }

    private static String log(Path tmp) {
        try {
            return Files.readString(tmp.resolve("child.log"));
        } catch (Exception e) {
            return "(no log)";
        }
    }
}
