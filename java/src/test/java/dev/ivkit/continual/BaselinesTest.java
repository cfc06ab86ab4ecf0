package dev.ivkit.continual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class BaselinesTest {
    /** Loss_n = ½ (w·x_n − y_n)², so ∂/∂w = (w·x_n − y_n) x_n and the Fisher is the mean of its squares. */
    @Test
    void fisherOfATinyLinearModelMatchesTheHandComputation() {
        try (PointerScope s = new PointerScope()) {
            Tensor w = Torch.fromFloats(new float[] {0.5f, -1.0f}, 2);
            w.requires_grad_(true);
            float[][] x = {{1, 2}, {3, -1}, {0, 4}};
            float[] y = {1, 0, -2};
            List<Tensor> f = EwcRegulariser.diagonalFisher(List.of(w), 3, i -> {
                Tensor r = w.mul(Torch.fromFloats(x[i], 2)).sum().sub(new Scalar(y[i]));
                return r.mul(r).mul(new Scalar(0.5));
            });
            // residuals: 0.5-2-1 = -2.5; 1.5+1-0 = 2.5; 0-4+2 = -2
            double[] want = {
                ((-2.5 * 1) * (-2.5 * 1) + (2.5 * 3) * (2.5 * 3) + 0) / 3,
                ((-2.5 * 2) * (-2.5 * 2) + (2.5 * -1) * (2.5 * -1) + (-2 * 4) * (-2 * 4)) / 3};
            float[] got = Torch.toFloatArray(f.get(0));
            assertEquals(want[0], got[0], 1e-5);
            assertEquals(want[1], got[1], 1e-5);
        }
    }

    @Test
    void fisherOfTheModelIsPerModuleNonNegativeAndLeavesWeightsFrozen() {
        try (PointerScope s = new PointerScope();
             Tokenizer tok = Tokenizer.load(SharedData.stories260K().resolve("tok512.bin"));
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null)) {
            List<TokenizedPrompt> data = List.of(TokenizedPrompt.of(tok, "Once upon a", " time"),
                    TokenizedPrompt.of(tok, "The cat sat on the", " mat"));
            Map<String, Tensor> f = EwcRegulariser.estimateFisher(m, data, List.of("q_proj", "v_proj"));
            assertEquals(2 * m.config().nLayers(), f.size());
            Tensor q0 = f.get(LoraConfig.modulePath(0, "q_proj"));
            assertTrue(q0.min().item_double() >= 0 && q0.sum().item_double() > 0);
            assertTrue(!m.weights().get(LoraConfig.modulePath(0, "q_proj") + ".weight").requires_grad());
            // EWC penalty on a fresh adapter (B = 0) is zero; with B set it equals λ/2 Σ F (s B A)²
            try (LoraAdapter a = LoraAdapter.create(m.config(), new LoraConfig(2, 4, 0, List.of("q_proj", "v_proj")), 1)) {
                EwcRegulariser ewc = new EwcRegulariser(f, 3.0);
                assertEquals(0.0, ewc.penalty(a).item_double());
                double want = 0;
                try (NoGradGuard g = new NoGradGuard()) {
                    for (Map.Entry<String, Tensor[]> e : a.all().entrySet()) {
                        e.getValue()[1].fill_(new Scalar(0.01));
                        Tensor d = e.getValue()[1].matmul(e.getValue()[0]).mul(new Scalar(2.0));
                        want += f.get(e.getKey()).mul(d.mul(d)).sum().item_double();
                    }
                }
                assertEquals(1.5 * want, ewc.penalty(a).item_double(), 1e-6 * Math.max(1, want));
            }
        }
    }

    @Test
    void oLoraTermMatchesTheHandComputation() {
        try (PointerScope s = new PointerScope()) {
            // A_prev [2, 3], A_cur [2, 3]: O = A_prev A_cur^T [2, 2]
            Tensor prev = Torch.fromFloats(new float[] {1, 0, 2, 0, 1, -1}, 2, 3);
            float[] cur = {1, 1, 0, 0, 2, 1};
            // rows: p0 = (1,0,2), p1 = (0,1,-1); c0 = (1,1,0), c1 = (0,2,1)
            // p0·c0 = 1, p0·c1 = 2, p1·c0 = 1, p1·c1 = 1  → Σ|O| = 5
            Tensor a = torch.tensor(cur).reshape(2, 3);
            OLoraRegulariser reg = new OLoraRegulariser(List.of(Map.of("m", prev), Map.of("m", prev.neg())), 0.5);
            assertEquals(0.5 * (5 + 5), reg.penalty(Map.of("m", a)).item_double(), 1e-6);
        }
    }

    @Test
    void replayBufferIsSeededAndReproducible() {
        List<Integer> t0 = range(0, 50), t1 = range(100, 150), cur = range(200, 220);
        ReplayBuffer<Integer> b1 = new ReplayBuffer<>(7, 10), b2 = new ReplayBuffer<>(7, 10), b3 = new ReplayBuffer<>(8, 10);
        for (ReplayBuffer<Integer> b : List.of(b1, b2, b3)) {
            b.add(0, t0);
            b.add(1, t1);
        }
        List<Integer> m1 = b1.mix(2, cur, 0.5), m2 = b2.mix(2, cur, 0.5), m3 = b3.mix(2, cur, 0.5);
        assertEquals(m1, m2);
        assertNotEquals(m1, m3);
        assertEquals(30, m1.size());
        assertEquals(cur, m1.subList(0, 20));
        assertEquals(20, b1.contents().size());
        for (int x : m1.subList(20, 30)) {
            assertTrue(b1.contents().contains(x) && (x < 50 || x >= 100 && x < 150));
        }
        assertEquals(cur, new ReplayBuffer<Integer>(7, 10).mix(0, cur, 0.5), "nothing to replay before the first task ends");
    }

    private static List<Integer> range(int a, int b) {
        List<Integer> l = new ArrayList<>();
        for (int i = a; i < b; i++) {
            l.add(i);
        }
        return l;
    }
}
