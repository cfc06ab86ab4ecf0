package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.io.HfConfig;
import dev.ivkit.testutil.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face models from the shell: a config.json the model cannot honour ends the CLI with exit 2 and the field
 * named, before any weight is read; {@code info} describes sharded bf16 checkpoints from their headers.
 */
class HfModelCliTest {
    private static Path model(Path dir, String ropeParameters) throws Exception {
        ModelConfig c = new ModelConfig("llama", 16, 24, 1, 2, 1, 8, 20, 64, 1e-5, 1e4, RopeStyle.HALF, null, false, false, 1, 2);
        TestModels.writeHf(dir, c, 0.5, w -> { });
        Path file = dir.resolve(HfConfig.FILE_NAME);
        JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        o.remove("rope_theta");
        o.remove("rope_scaling");
        o.add("rope_parameters", JsonParser.parseString(ropeParameters));
        Files.writeString(file, o.toString());
        return dir;
    }

    @Test
    void unknownRopeTypeExitsTwoNamingTheField(@TempDir Path dir) throws Exception {
        Path m = model(dir, "{\"rope_type\": \"yarn\", \"rope_theta\": 1e6, \"factor\": 4.0, \"original_max_position_embeddings\": 32}");
        CliTest.Run r = CliTest.run("info", "--model", m.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("[rope_parameters.rope_type]") && r.err().contains("yarn"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void transformers5RopeParametersAreShownByInfo(@TempDir Path dir) throws Exception {
        Path m = model(dir, "{\"rope_type\": \"llama3\", \"rope_theta\": 500000.0, \"factor\": 8.0, \"low_freq_factor\": 1.0, "
                + "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 32}");
        CliTest.Run r = CliTest.run("info", "--model", m.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("theta 500000.0") && r.out().contains("llama3(factor 8.0"), r.out());
    }

    @Test
    void infoDescribesAShardedBf16Checkpoint(@TempDir Path dir) {
        ModelConfig c = new ModelConfig("llama", 16, 24, 2, 2, 1, 8, 20, 64, 1e-5, 1e4, RopeStyle.HALF, null, false, false, 1, 2);
        org.bytedeco.pytorch.global.torch.manual_seed(2);
        dev.ivkit.model.io.ShardedCheckpointWriter.write(dir, c, org.bytedeco.pytorch.global.torch.ScalarType.BFloat16, 1024,
                name -> org.bytedeco.pytorch.global.torch.randn(dev.ivkit.model.io.HfCheckpoint.expectedShapes(c).get(name)), null);
        CliTest.Run r = CliTest.run("info", "--model", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(String.format("%,d", c.parameterCount())), r.out());
        assertTrue(r.out().matches("(?s).*weights dtype: +bf16 \\(0\\.0 MB in \\d+ files\\).*"), r.out());
    }
}
