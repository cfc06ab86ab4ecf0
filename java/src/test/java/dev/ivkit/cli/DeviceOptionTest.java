package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ivkit.kernels.Cuda;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code --device}: CUDA where there is none is one line naming the reason, exit 2, before any file is read. */
class DeviceOptionTest {
    private static final Path STORIES = SharedData.stories260K();

    @Test
    void cudaWithoutAGpuExitsTwoWithTheReason() {
        assumeFalse(Cuda.available(), "a GPU is present: the CUDA path is tested by CudaModelTest");
        String reason = Cuda.reason();
        for (String[] args : new String[][] {
                {"generate", "--model", STORIES.resolve("stories260K.bin").toString(), "--prompt", "Once", "--device", "cuda"},
                {"scan", "--model", "no-such-model", "--task", SharedData.require("function_vectors/abstractive/antonym.json").toString(),
                        "--out", "unused", "--device", "cuda:1"},
                // no such spec / organism: the device is refused first, before any file is read or anything is trained
                {"continual", "--spec", "no-such-spec.json", "--model", "no-such-model", "--out", "unused", "--device", "cuda"},
                {"demo", "--organism", "no-such-organism", "--out", "unused", "--quick", "--device", "cuda"}}) {
            CliTest.Run r = CliTest.run(args);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("CUDA is unavailable: " + reason), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertEquals("", r.out());
        }
    }

    @Test
    void unknownDeviceNamesTheField() {
        CliTest.Run r = CliTest.run("generate", "--model", STORIES.resolve("stories260K.bin").toString(), "--prompt", "Once",
                "--device", "tpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("device") && r.err().contains("tpu"), r.err());
    }

    @Test
    void explicitCpuGivesThePublishedSample() throws Exception {
        String expected = com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(
                STORIES.resolve("reference_outputs.json"))).getAsJsonObject().get("greedy_text").getAsString();
        CliTest.Run r = CliTest.run("generate", "--model", STORIES.resolve("stories260K.bin").toString(), "--tokenizer",
                STORIES.resolve("tok512.bin").toString(), "--max-new-tokens", "200", "--temperature", "0", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertEquals(expected + System.lineSeparator(), r.out());
    }
}
