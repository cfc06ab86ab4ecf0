package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.io.HfConfig;
import dev.ivkit.testutil.ReferenceForward;
import dev.ivkit.testutil.TestModels;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The logits of a small Hugging Face model whose config scales its rotary frequencies equal a plain-Java double
 * forward pass ({@link ReferenceForward}) run with inverse frequencies computed here by hand from the formulas, in
 * both config layouts (transformers 4 rope_theta/rope_scaling, transformers 5 rope_parameters).
 *
 * <p>theta 100 and d_head 8 give inverse frequencies 1, 100^-1/4, 0.1, 100^-3/4 with wavelengths 6.3, 19.9, 62.8
 * and 198.7 positions, so llama3 scaling with original context 64, low 1, high 4 (wavelength bands 16 and 64)
 * keeps the first, interpolates the middle two and divides the last by the factor.
 */
class RopeScalingLogitsTest {
    private static final double THETA = 100;
    private static final long[] IDS = {1, 7, 3, 19, 4, 4, 11, 2, 15, 8, 0, 13, 6, 17};

    @TempDir
    Path dir;

    private static ModelConfig config(RopeScaling scaling) {
        return new ModelConfig("llama", 16, 24, 2, 2, 1, 8, 20, 64, 1e-5, THETA, RopeStyle.HALF, scaling, false, false, 1, 2);
    }

    private static double[] plainFreq() {
        return new double[] {1, Math.pow(100, -0.25), 0.1, Math.pow(100, -0.75)};
    }

    /** llama3 scaling of {@link #plainFreq()} by hand: band per wavelength, smooth = (orig / wavelength - low) / (high - low). */
    private static double[] llama3Freq(double factor) {
        double[] f = plainFreq();
        double s1 = (64 * f[1] / (2 * Math.PI) - 1) / 3;
        double s2 = (64 * f[2] / (2 * Math.PI) - 1) / 3;
        double[] out = {f[0], f[1] * ((1 - s1) / factor + s1), f[2] * ((1 - s2) / factor + s2), f[3] / factor};
        // the same values rounded by hand (factor 4): 1, 0.254648, 0.0254648, 0.0079057
        if (factor == 4) {
            double[] rounded = {1, 0.254648, 0.0254648, 0.0079057};
            for (int i = 0; i < 4; i++) {
                assertEquals(rounded[i], out[i], 1e-6, "hand-computed llama3 frequency " + i);
            }
        }
        return out;
    }

    private static double[] linearFreq(double factor) {
        double[] f = plainFreq();
        for (int i = 0; i < f.length; i++) {
            f[i] /= factor;
        }
        return f;
    }

    /** Rewrites config.json in transformers 5's layout: rope_theta and rope_scaling moved into rope_parameters. */
    private void toTransformers5(Path model, String ropeType) throws IOException {
        Path file = model.resolve(HfConfig.FILE_NAME);
        JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonObject p = o.has("rope_scaling") && o.get("rope_scaling").isJsonObject()
                ? o.getAsJsonObject("rope_scaling").deepCopy() : new JsonObject();
        p.addProperty("rope_type", ropeType);
        p.add("rope_theta", o.get("rope_theta"));
        o.remove("rope_theta");
        o.remove("rope_scaling");
        o.add("rope_parameters", p);
        o.remove("torch_dtype");
        o.addProperty("dtype", "float32");
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }

    private static double maxDiff(double[][] ref, Tensor logits) {
        float[] got = Torch.toFloatArray(logits.contiguous());
        int v = ref[0].length;
        double max = 0;
        for (int t = 0; t < ref.length; t++) {
            for (int j = 0; j < v; j++) {
                max = Math.max(max, Math.abs(ref[t][j] - got[t * v + j]));
            }
        }
        return max;
    }

    /** Loads the model at {@code model}, checks its config, and compares its logits with the reference's. */
    private void check(Path model, RopeScaling want, double[] freq) {
        try (PointerScope s = new PointerScope(); LlamaModel m = ModelLoader.load(model, null)) {
            assertEquals(THETA, m.config().ropeTheta());
            assertEquals(want, m.config().ropeScaling());
            Tensor logits = m.forward(torch.tensor(IDS).reshape(1, IDS.length), HookPlan.empty()).logits().select(0, 0);
            double[][] ref = new ReferenceForward(m.config(), m.weights(), freq).logits(IDS);
            // fp32 model against a double reference, logits of magnitude ~1-3: a few fp32 ulps expected; 2e-5 bound
            // (the unscaled-frequency check below shows a wrong rope moves them by > 1e-3)
            double err = maxDiff(ref, logits);
            assertTrue(err < 2e-5, "logits differ from the hand-computed reference by " + err);
            if (want != null) {
                double unscaled = maxDiff(new ReferenceForward(m.config(), m.weights(), plainFreq()).logits(IDS), logits);
                assertTrue(unscaled > 1e-3, "the scaling must visibly change the logits (unscaled reference differs by " + unscaled + ")");
            }
        }
    }

    private Path write(String name, RopeScaling scaling) {
        return TestModels.writeHf(dir.resolve(name), config(scaling), 0.5, w -> { });
    }

    @Test
    void llama3Transformers4Layout() {
        RopeScaling s = new RopeScaling(4, 1, 4, 64);
        check(write("v4", s), s, llama3Freq(4));
    }

    @Test
    void llama3Transformers5Layout() throws IOException {
        RopeScaling s = new RopeScaling(4, 1, 4, 64);
        Path m = write("v5", s);
        toTransformers5(m, "llama3");
        check(m, s, llama3Freq(4));
    }

    @Test
    void linearBothLayouts() throws IOException {
        RopeScaling s = RopeScaling.linear(2.5);
        check(write("v4", s), s, linearFreq(2.5));
        Path m = write("v5", s);
        toTransformers5(m, "linear");
        check(m, s, linearFreq(2.5));
    }

    @Test
    void defaultRopeInTransformers5Layout() throws IOException {
        Path m = write("v5", null);
        toTransformers5(m, "default");
        check(m, null, plainFreq());
    }

    @Test
    void dynamicIsTheDefaultRopeWithinTheOriginalContext() throws IOException {
        Path m = write("dyn", null);
        Path file = m.resolve(HfConfig.FILE_NAME);
        JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonObject r = new JsonObject();
        r.addProperty("type", "dynamic");
        r.addProperty("factor", 2.0);
        r.addProperty("original_max_position_embeddings", 32);
        o.add("rope_scaling", r);
        Files.writeString(file, o.toString());
        check(m, null, plainFreq());
        assertEquals(32, HfConfig.read(m).maxSeqLen(), "dynamic scaling caps the context at the original length");
    }
}
