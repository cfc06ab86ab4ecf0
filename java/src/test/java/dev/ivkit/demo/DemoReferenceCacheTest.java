package dev.ivkit.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.MatmulPrecision;
import dev.ivkit.continual.Method;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.train.IvGuidedRegulariser;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@code ivkit demo --reference-cache} and {@code --reference-precision}: the settings reach every KL regulariser of
 * the run; a negative cache size is refused.
 */
class DemoReferenceCacheTest {
    @Test
    void theSettingReachesTheKlRegularisers() {
        try (PointerScope s = new PointerScope(); LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null)) {
            DemoSettings cached = DemoSettings.quick(1).withReferenceCache(64).withReferencePrecision(MatmulPrecision.REDUCED);
            assertEquals(0, DemoSettings.quick(1).referenceCacheTopK(), "off by default");
            assertEquals(MatmulPrecision.FULL, DemoSettings.quick(1).referencePrecision(), "full by default");
            var c = m.config();
            InstructionVector iv = InstructionVector.build(m, torch.randn(c.nLayers(), c.nHeads(), c.headDim()),
                    new double[c.nLayers()][c.nHeads()], List.of(new HeadRanking.Head(1, 2, 0.5)), java.util.Map.of());
            try (iv) {
            for (String id : List.of("lwf", "lwf-pr", "iv-guided", "iv-guided-nopr", "iv-guided@0.3")) {
                String base = ContinualStage.baseMethod(id);
                Method method = Method.parse(base.equals("iv-guided-nopr") ? "iv-guided" : base);   // nopr: iv-guided, α_pr 0
                var reg = (IvGuidedRegulariser) ContinualStage.regularisers(id, cached).create(method, m, iv, 2, null, List.of());
                assertEquals(64, reg.config().referenceCacheTopK(), id);
                assertEquals(MatmulPrecision.REDUCED, reg.config().referencePrecision(), id);
            }
            }
            assertThrows(InvalidArgumentException.class, () -> DemoSettings.quick(1).withReferenceCache(-1));
        }
    }
}
