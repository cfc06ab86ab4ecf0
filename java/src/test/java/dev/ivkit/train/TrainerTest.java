package dev.ivkit.train;

import dev.ivkit.KlDirection;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    static LlamaModel model() {
        return ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null);
    }

    static Tokenizer tok() {
        return Tokenizer.load(SharedData.stories260K().resolve("tok512.bin"));
    }

    /** Teacher-forced first-answer-token accuracy. */
    static double accuracy(LlamaModel m, List<TokenizedPrompt> data) {
        int ok = 0;
        try (NoGradGuard g = new NoGradGuard()) {
            for (TokenizedPrompt p : data) {
                try (PointerScope s = new PointerScope()) {
                    long[] ids = new long[p.promptIds().length];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = p.promptIds()[i];
                    }
                    Tensor logits = m.forward(torch.tensor(ids).reshape(1, ids.length), null, HookPlan.empty(), null, LogitsMode.LAST).logits();
                    ok += logits.argmax().item_long() == p.targetIds()[0] ? 1 : 0;
                }
            }
        }
        return (double) ok / data.size();
    }

    static TrainConfig fast() {
        return TrainConfig.defaults().withLr(1e-2).withBatch(8, 1).withEpochs(2).withCheckpointEvery(2);
    }

    @Test
    void fineTuningLowersLossAndRaisesAccuracy(@TempDir Path out) {
        try (Tokenizer tok = tok(); LlamaModel m = model(); LoraAdapter a = LoraAdapter.create(m.config(), LoraConfig.defaults(), 1)) {
            List<TokenizedPrompt> train = TrainData.sst2(tok, "train", 0, 96);
            List<TokenizedPrompt> test = TrainData.sst2(tok, "test", 0, 40);
            double before = accuracy(m, test);
            Trainer.Result r = new Trainer(m, fast().withEpochs(3), null, out).train(a, train, test, false);
            double after = accuracy(m, test);
            double first = r.losses().get(0), last = r.losses().get(r.losses().size() - 1);
            assertTrue(last < first * 0.5, "loss " + first + " -> " + last);
            assertTrue(after > before && after >= 0.6, "test accuracy " + before + " -> " + after);
            assertTrue(Files.exists(out.resolve("adapter/adapter_model.safetensors")));
        }
    }

    @Test
    void zeroWeightRegulariserReproducesPlainTrainingBitForBit(@TempDir Path out) throws Exception {
        try (PointerScope s = new PointerScope(); Tokenizer tok = tok(); LlamaModel m1 = model(); LlamaModel m2 = model();
             LoraAdapter a1 = LoraAdapter.create(m1.config(), LoraConfig.defaults(), 3);
             LoraAdapter a2 = LoraAdapter.create(m2.config(), LoraConfig.defaults(), 3)) {
            List<TokenizedPrompt> train = TrainData.sst2(tok, "train", 0, 24);
            Trainer.Result plain = new Trainer(m1, fast(), null, out.resolve("plain")).train(a1, train, null, false);
            IvGuidedRegulariser zero = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(torch.randn(64), 2,
                    IvGuidedRegulariser.Site.ATTN_OUT, 0, 0, 0, 2.0, KlDirection.REVERSE, false, List.of(), null));
            Trainer.Result guided = new Trainer(m2, fast(), zero, out.resolve("guided")).train(a2, train, null, false);
            assertEquals(plain.losses(), guided.losses());
            assertEquals(Files.readString(out.resolve("plain/metrics.jsonl")), Files.readString(out.resolve("guided/metrics.jsonl")));
        }
    }

    @Test
    void ivGuidedTermsAreComputedAndAnchorTheModel(@TempDir Path out) throws Exception {
        try (PointerScope s = new PointerScope(); Tokenizer tok = tok(); LlamaModel m = model();
             LoraAdapter a = LoraAdapter.create(m.config(), LoraConfig.defaults(), 4)) {
            List<TokenizedPrompt> train = TrainData.sst2(tok, "train", 0, 16);
            IvGuidedRegulariser reg = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(torch.randn(64), 2,
                    IvGuidedRegulariser.Site.ATTN_OUT, 1.0, 0.1, 1.0, 2.0, KlDirection.REVERSE, false,
                    List.of(new HeadRanking.Head(1, 2, 0), new HeadRanking.Head(3, 5, 0)), new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0)));
            new Trainer(m, fast(), reg, out).train(a, train, null, false);
            List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
            // fresh adapter: z unchanged, up to float rounding (the reference heads come from the reference pass's
            // KV-cached suffix forward, whose sums run in another order than the training forward's)
            com.google.gson.JsonObject first = com.google.gson.JsonParser.parseString(lines.get(0)).getAsJsonObject();
            assertTrue(first.has("kl1") && first.get("pr").getAsDouble() < 1e-10, lines.get(0));
            com.google.gson.JsonObject last = com.google.gson.JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
            assertTrue(last.get("kl1").getAsDouble() > 0 && last.get("kl2").getAsDouble() > 0 && last.get("pr").getAsDouble() > 0, last.toString());
            assertEquals(last.get("loss").getAsDouble(), last.get("ce").getAsDouble() + last.get("kl").getAsDouble() + last.get("pr").getAsDouble(), 1e-4);
        }
    }

    @Test
    void interruptedRunResumesToTheSameMetricsAndAdapter(@TempDir Path out) throws Exception {
        try (PointerScope s = new PointerScope(); Tokenizer tok = tok(); LlamaModel m1 = model(); LlamaModel m2 = model();
             LoraAdapter a1 = LoraAdapter.create(m1.config(), new LoraConfig(8, 16, 0.1, List.of("q_proj", "v_proj")), 5);
             LoraAdapter a2 = LoraAdapter.create(m2.config(), new LoraConfig(8, 16, 0.1, List.of("q_proj", "v_proj")), 5)) {
            List<TokenizedPrompt> train = TrainData.sst2(tok, "train", 0, 40);
            TrainConfig cfg = fast().withBatch(4, 2);   // 5 steps per epoch, 10 in all, checkpoint every 2
            new Trainer(m1, cfg, null, out.resolve("full")).train(a1, train, null, false);
            Trainer t = new Trainer(m2, cfg, null, out.resolve("cut")).stepHook((step, loss) -> {
                if (step == 7) {
                    throw new IllegalStateException("simulated crash after step 7");
                }
            });
            assertThrows(IllegalStateException.class, () -> t.train(a2, train, null, false));
            try (LlamaModel m3 = model()) {
                new Trainer(m3, cfg, null, out.resolve("cut")).train(null, train, null, true);
            }
            assertEquals(Files.readString(out.resolve("full/metrics.jsonl")), Files.readString(out.resolve("cut/metrics.jsonl")));
            assertEquals(-1, Files.mismatch(out.resolve("full/adapter/adapter_model.safetensors"), out.resolve("cut/adapter/adapter_model.safetensors")),
                    "final adapters are byte-identical");
        }
    }

    @Test
    void nanStopsWithTheLastCheckpointIntact(@TempDir Path out) throws Exception {
        try (PointerScope s = new PointerScope(); Tokenizer tok = tok(); LlamaModel m = model();
             LoraAdapter a = LoraAdapter.create(m.config(), LoraConfig.defaults(), 6)) {
            List<TokenizedPrompt> train = TrainData.sst2(tok, "train", 0, 48);
            Trainer t = new Trainer(m, fast(), null, out).stepHook((step, loss) -> {
                if (step == 2) {   // right after the step-2 checkpoint: poison one adapter weight
                    try (NoGradGuard g = new NoGradGuard()) {
                        a.parameters().get(1).index_put_(new org.bytedeco.pytorch.TensorIndexVector(
                                new org.bytedeco.pytorch.TensorIndex(0L)), new Scalar(Float.NaN));
                    }
                }
            });
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.train(a, train, null, false));
            assertTrue(e.getMessage().contains("step 2") && e.getMessage().contains("intact"), e.getMessage());
            Checkpoints c = new Checkpoints(out);
            assertTrue(c.latest().endsWith("step-2"));
            try (LoraAdapter back = c.readAdapter(c.latest(), m.config())) {
                for (Tensor p : back.parameters()) {
                    assertTrue(torch.isfinite(p).all().item_bool(), "checkpointed weights are finite");
                }
            }
        }
    }

    @Test
    void savedAdapterGivesIdenticalLogits(@TempDir Path out) {
        try (PointerScope s = new PointerScope(); Tokenizer tok = tok(); LlamaModel m = model(); LlamaModel fresh = model();
             LoraAdapter a = LoraAdapter.create(m.config(), LoraConfig.defaults(), 7)) {
            List<TokenizedPrompt> train = TrainData.sst2(tok, "train", 0, 16);
            Trainer.Result r = new Trainer(m, fast(), null, out).train(a, train, null, false);
            Tensor tokens = torch.tensor(new long[] {1, 403, 407, 261, 378}).reshape(1, 5);
            Tensor want = m.forward(tokens, HookPlan.empty()).logits();
            try (LoraAdapter back = LoraAdapter.load(r.adapterDir(), fresh.config())) {
                fresh.attachAdapter(back);
                Compare.assertBitEqual(want, fresh.forward(tokens, HookPlan.empty()).logits(), "reloaded adapter");
            }
        }
    }
}
