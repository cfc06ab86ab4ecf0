package dev.ivkit.iv;

import dev.ivkit.data.prompt.TokenizedPrompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Attribution patching against the exact scan: exact to first order for small patches, and its rank agreement. */
class AttributionPatchingTest {
    @Test
    void firstOrderExactForSmallAdditions() throws Exception {
        Path dir = SharedData.stories260K();
        try (PointerScope s = new PointerScope(); Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin"));
             LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            List<TokenizedPrompt> ps = CieScanTest.prompts(tok, 1, 4, false);
            Tensor meanZ = MeanActivations.compute(model, ps, 3);
            // ADD a small multiple (eps = 1e-2) of the mean: the exact change is linear in it up to O(eps^2), which AtP
            // computes. Measured relative error 0.1-1.4 %; the 2 % bound leaves room for fp32 rounding of the NLL
            // difference (~1e-6 absolute), which is why eps is not smaller (at 1e-3 rounding reached 4 %).
            CieScan scan = new CieScan(model, meanZ.mul(new Scalar(1e-2)), PatchMode.ADD);
            for (TokenizedPrompt p : ps) {
                double[][][] exact = scan.scorePrompt(p, ScanMethod.EXACT);
                double[][][] atp = scan.scorePrompt(p, ScanMethod.ATP);
                assertEquals(exact[2][0][0], atp[2][0][0], 1e-6, "clean probability");
                assertEquals(exact[2][0][1], atp[2][0][1], 1e-5, "clean NLL");
                for (int k = 0; k < 2; k++) {
                    double max = 0, err = 0;
                    for (int l = 0; l < exact[k].length; l++) {
                        for (int h = 0; h < exact[k][l].length; h++) {
                            max = Math.max(max, Math.abs(exact[k][l][h]));
                            err = Math.max(err, Math.abs(exact[k][l][h] - atp[k][l][h]));
                        }
                    }
                    assertTrue(max > 0, "the patches must change something");
                    assertTrue(err <= 0.02 * max + 1e-7, (k == 0 ? "dprob" : "dnll") + ": |exact - atp| = " + err + " vs max |exact| = " + max);
                }
            }
        }
    }

    @Test
    void spearmanOfHandComputedRanks() {
        assertEquals(1.0, RankCorrelation.spearman(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}), 1e-12);
        assertEquals(-1.0, RankCorrelation.spearman(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), 1e-12);
        // ranks a = 1,2,3,4,5; b = 2,1,4,3,5: d^2 = 1+1+1+1+0 = 4 -> 1 - 6*4/(5*24) = 0.8
        assertEquals(0.8, RankCorrelation.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {2, 1, 4, 3, 5}), 1e-12);
        // ties get the average rank: b ranks = 1.5, 1.5, 3 -> Pearson with 1,2,3 = 0.8660254
        assertEquals(Math.sqrt(3) / 2, RankCorrelation.spearman(new double[] {1, 2, 3}, new double[] {7, 7, 9}), 1e-12);
    }
}
