package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ivkit.KlDirection;
import dev.ivkit.PatchMode;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.kernels.Cuda;
import dev.ivkit.model.Device;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The IV pipeline on a device against the same pipeline on the CPU, stories260K in fp32: mean activations (native
 * capture), the exact scan, the IV, and one IV-guided LoRA step (loss and LoRA gradients), on {@code cuda:0} where a
 * GPU is present (skipped elsewhere; placement without a GPU is MetaDeviceTest's job). Tolerances: libtorch keeps
 * TF32 off for fp32 matmuls, so the two sides differ by summation order only (not yet measured: the first GPU run
 * records it).
 */
class DeviceParityTest {
    private static final Path DIR = SharedData.stories260K();

    @Test
    void pipelineOnCudaMatchesTheCpu() throws Exception {
        assumeTrue(Cuda.available(), () -> "no usable CUDA: " + Cuda.reason());
        Device d = Device.cuda(0);
        double rtol = 1e-4, atol = 1e-5;
        try (PointerScope s = new PointerScope(); Tokenizer tok = Tokenizer.load(DIR.resolve("tok512.bin"));
             LlamaModel cpu = ModelLoader.load(DIR.resolve("stories260K.bin"), null);
             LlamaModel dev = ModelLoader.load(DIR.resolve("stories260K.bin"), null, d, null)) {
            assertEquals(d, dev.device());
            List<TokenizedPrompt> ps = CieScanTest.prompts(tok, 1, 3, false);
            Tensor mzC = MeanActivations.compute(cpu, ps, 2), mzD = MeanActivations.compute(dev, ps, 2);
            assertEquals(d, Device.of(mzD));
            Compare.assertClose(mzC, mzD.cpu(), rtol, atol, "mean activations on " + d);

            double[][][] a = new CieScan(cpu, mzC, PatchMode.ADD).scorePrompt(ps.get(0), ScanMethod.EXACT);
            double[][][] b = new CieScan(dev, mzD, PatchMode.ADD).scorePrompt(ps.get(0), ScanMethod.EXACT);
            for (int k = 0; k < 2; k++) {
                for (int l = 0; l < a[k].length; l++) {
                    for (int h = 0; h < a[k][l].length; h++) {
                        assertEquals(a[k][l][h], b[k][l][h], 1e-4, "scan " + k + " L" + l + "H" + h + " on " + d);
                    }
                }
            }
            List<HeadRanking.Head> heads = List.of(new HeadRanking.Head(1, 3, 0), new HeadRanking.Head(3, 6, 0));
            try (InstructionVector ivC = InstructionVector.build(cpu, mzC, a[0], heads, Map.of());
                 InstructionVector ivD = InstructionVector.build(dev, mzD, b[0], heads, Map.of())) {
                assertEquals(d, Device.of(ivD.vector()));
                Compare.assertClose(ivC.vector(), ivD.vector().cpu(), rtol, atol, "IV on " + d);
                double[] lossC = new double[1], lossD = new double[1];
                List<Tensor> gC = trainStepGrads(cpu, ps, ivC.vector(), heads, lossC);
                List<Tensor> gD = trainStepGrads(dev, ps, ivC.vector(), heads, lossD);   // the IV handed over on the host
                assertEquals(lossC[0], lossD[0], 1e-4 * Math.abs(lossC[0]), "IV-guided loss on " + d);
                assertTrue(gC.stream().anyMatch(g -> g.abs().max().item_double() > 0), "the step must have gradients");
                for (int i = 0; i < gC.size(); i++) {
                    Compare.assertClose(gC.get(i), gD.get(i).cpu(), 1e-3, 1e-6, "LoRA grad " + i + " on " + d);
                }
            }
        }
    }

    /** Loss and LoRA gradients of one IV-guided step (dropout off, adapter from a fixed seed, B perturbed). */
    private static List<Tensor> trainStepGrads(LlamaModel m, List<TokenizedPrompt> ps, Tensor iv, List<HeadRanking.Head> heads,
            double[] loss) {
        try (LoraAdapter a = LoraAdapter.create(m.config(), new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj")), 3)) {
            try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
                for (Tensor[] ab : a.all().values()) {   // B starts at zero: give it values so A gets gradients too
                    ab[1].fill_(new org.bytedeco.pytorch.Scalar(0.05));
                }
            }
            m.attachAdapter(a);
            try {
                TrainBatch b = TrainBatch.of(ps);
                IvGuidedRegulariser reg = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv, 2,
                        IvGuidedRegulariser.Site.ATTN_OUT, 1.0, 1.0, 1.0, 2.0, KlDirection.REVERSE, false, heads,
                        new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0)));
                Regulariser.Prepared prep = reg.prepare(m, b, 0, 1);
                var r = m.forward(b.tokens, b.mask, prep.trainingPlan(), null, LogitsMode.ALL);
                Tensor total = prep.loss(r, b, 1, 1).total();   // as the Trainer: the CE folded into the fused KL
                loss[0] = total.item_double();
                total.backward();
                List<Tensor> grads = new ArrayList<>();
                for (Tensor p : a.parameters()) {
                    grads.add(p.grad().cpu().clone());
                }
                return grads;
            } finally {
                m.detachAdapter();
            }
        }
    }
}
