package dev.ivkit.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.demo.ContinualStage.Run;
import dev.ivkit.demo.ContinualStage.Similarity;
import dev.ivkit.demo.ContinualStage.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A finished run read back from the demo's run cache equals what was kept; another organism, settings or a bad file miss. */
class RunCacheTest {
    private static Path organism(Path dir, String weights) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("model.safetensors"), weights);
        Files.writeString(dir.resolve("organism.json"), "{\"version\": \"test\"}");
        return dir;
    }

    private static Run run() {
        double[] nan = {Double.NaN, 0.25};
        Stage base = new Stage(new double[] {1, 0.5}, new double[] {0}, new double[] {0.1, 0.2}, new double[] {0.3, 0.4}, nan,
                new double[] {0.9, 0.8}, null);
        Stage after = base.with(new Similarity(new double[] {0.99, 0.98}, new double[] {1, 0.5}, new double[] {Double.NaN},
                new double[] {0.25}));
        return new Run(List.of(base, after), List.of(0.125));
    }

    @Test
    void keptRunsReadBackUnderTheSameFingerprintOnly(@TempDir Path tmp) throws Exception {
        Path org = organism(tmp.resolve("org"), "weights-1");
        DemoSettings s = DemoSettings.quick(1);
        RunCache cache = new RunCache(tmp.resolve("out"), org, s);
        assertTrue(cache.get("lwf@0.3", 1).isEmpty());
        cache.put("lwf@0.3", 1, run());
        Run back = new RunCache(tmp.resolve("out"), org, s).get("lwf@0.3", 1).orElseThrow();
        assertEquals(List.of(0.125), back.trainLoss());
        assertArrayEquals(run().stages().get(0).withIv(), back.stages().get(0).withIv());   // NaN kept as NaN
        assertArrayEquals(run().stages().get(1).sim().heldCosine(), back.stages().get(1).sim().heldCosine());
        assertArrayEquals(run().stages().get(1).icl(), back.stages().get(1).icl());
        assertNull(back.stages().get(0).sim());
        assertTrue(new RunCache(tmp.resolve("out"), org, s.withWeights(0.5, 0.1, 1)).get("lwf@0.3", 1).isEmpty(), "other settings");
        assertTrue(new RunCache(tmp.resolve("out"), organism(tmp.resolve("org2"), "weights-2"), s).get("lwf@0.3", 1).isEmpty(),
                "another organism");
        Files.writeString(tmp.resolve("out").resolve(RunCache.FOLDER).resolve("lwf@0.3-seed-1.json"), "{\"fingerprint\": [");
        assertTrue(cache.get("lwf@0.3", 1).isEmpty(), "a truncated file is trained again");
    }
}
