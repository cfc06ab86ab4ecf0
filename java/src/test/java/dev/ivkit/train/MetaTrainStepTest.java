package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.KlDirection;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.model.Device;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RunResult;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Device hygiene of one IV-guided LoRA step on libtorch's meta device (shape-only tensors; see
 * {@code iv.MetaDeviceTest}): batch, reference pass with the IV added, fused KL terms, head preservation, LoRA
 * backward, gradient clipping and AdamW. The IV is handed over on the host, as {@code InstructionVector.load} gives it.
 */
class MetaTrainStepTest {
    @Test
    void ivGuidedStepOnMeta() {
        try (PointerScope s = new PointerScope(); Tokenizer tok = Tokenizer.load(SharedData.stories260K().resolve("tok512.bin"));
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null, Device.META, null);
             LoraAdapter a = LoraAdapter.create(m.config(), new LoraConfig(4, 8, 0.1, List.of("q_proj", "v_proj")), 2)) {
            m.attachAdapter(a);
            assertTrue(a.parameters().stream().allMatch(Tensor::is_meta), "the adapter follows the model to meta");
            List<TokenizedPrompt> ex = TrainData.sst2(tok, "train", 0, 3);   // different lengths: left padding
            Tensor iv = torch.randn(m.config().dModel());                    // host vector, like a loaded IV
            List<HeadRanking.Head> heads = List.of(new HeadRanking.Head(1, 3, 0), new HeadRanking.Head(4, 6, 0));
            for (boolean gates : new boolean[] {true, false}) {   // gates: CE and terms apart; none: the CE folded into the KL
              IvGuidedRegulariser reg = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv, 2,
                    IvGuidedRegulariser.Site.ATTN_OUT, 1.0, 1.0, 1.0, 2.0, KlDirection.REVERSE, gates, heads, IvSchedule.defaults()));
              try (AdamW opt = new AdamW(a.parameters(), 0.9, 0.999, 1e-8, 0.01)) {
                m.setTraining(true);
                TrainBatch b = TrainBatch.of(ex);
                Regulariser.Prepared prep = reg.prepare(m, b, 5, 10);   // mid-ramp: the IV is added
                RunResult r = m.forward(b.tokens, b.mask, prep.trainingPlan(), null, LogitsMode.ALL);
                Tensor loss = prep.loss(r, b, 1, 1).total();   // as the Trainer
                assertTrue(loss.is_meta());
                loss.backward();
                AdamW.clipGradNorm(a.parameters(), 1.0);
                opt.step(1e-3);
                opt.zeroGrad();
                assertEquals(1, opt.stepCount());
                assertTrue(opt.state().values().stream().allMatch(Tensor::is_meta), "optimizer state on the model's device");
              }
            }
        }
    }
}
