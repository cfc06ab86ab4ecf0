package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.io.Llama2cCheckpoint;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Golden tests against what this project did not write: Karpathy's stories260K checkpoint and the greedy ids in
 * reference_outputs.json (an fp64 re-implementation of llama2.c's run.c, matching the published sample).
 */
class Stories260KGoldenTest {
    static int[] referenceIds(Path dir) throws Exception {
        JsonObject ref = JsonParser.parseString(Files.readString(dir.resolve("reference_outputs.json"))).getAsJsonObject();
        JsonArray arr = ref.getAsJsonArray("greedy_ids_from_bos");
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = arr.get(i).getAsInt();
        }
        return ids;
    }

    @Test
    void greedyFromBosReproducesReference() throws Exception {
        Path dir = SharedData.stories260K();
        int[] expected = referenceIds(dir);
        try (LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            int[] got = new Generator(model).generate(new int[] {1}, expected.length, new Sampler(0f, 1f, 0), t -> true);
            assertArrayEquals(expected, got);
        }
    }

    @Test
    void legacyAndVersion1GiveIdenticalLogits() {
        Path dir = SharedData.stories260K();
        try (PointerScope scope = new PointerScope();
             LlamaModel legacy = ModelLoader.load(dir.resolve("stories260K.bin"), null);
             LlamaModel v1 = ModelLoader.load(dir.resolve("stories260K.v1.bin"), null)) {
            assertEquals(legacy.config(), v1.config());
            Tensor tokens = torch.tensor(new long[] {1, 403, 407, 261, 378, 432, 383, 286}).reshape(1, 8);
            Tensor a = legacy.forward(tokens, HookPlan.empty()).logits();
            Tensor b = v1.forward(tokens, HookPlan.empty()).logits();
            Compare.assertBitEqual(a, b, "legacy vs v1 logits");
        }
    }

    @Test
    void cachedStepsEqualFullForward() {
        Path dir = SharedData.stories260K();
        try (PointerScope scope = new PointerScope();
             LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null);
             KvCache cache = model.newCache(1, 16)) {
            long[] ids = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376};
            Tensor full = model.forward(torch.tensor(ids).reshape(1, ids.length), HookPlan.empty()).logits();  // [1, 10, V]
            Tensor prefix = torch.tensor(new long[] {1, 403, 407, 261}).reshape(1, 4);
            Tensor first = model.forward(prefix, null, HookPlan.empty(), cache, LogitsMode.ALL).logits();
            Compare.assertClose(full.narrow(1, 0, 4), first, 1e-5, 1e-5, "prefix logits");
            for (int i = 4; i < ids.length; i++) {
                Tensor step = model.forward(torch.tensor(new long[] {ids[i]}).reshape(1, 1), null, HookPlan.empty(), cache,
                        LogitsMode.LAST).logits();
                Compare.assertClose(full.select(1, i), step, 1e-5, 1e-5, "cached step " + i);
            }
        }
    }

    @Test
    void leftPaddingDoesNotChangeRealPositions() {
        Path dir = SharedData.stories260K();
        try (PointerScope scope = new PointerScope();
             LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            long[] a = {1, 403, 407, 261, 378};
            long[] b = {1, 317, 381};
            Tensor single = model.forward(torch.tensor(b).reshape(1, 3), HookPlan.empty()).logits();  // [1, 3, V]
            Tensor batch = torch.tensor(new long[] {1, 403, 407, 261, 378, 0, 0, 1, 317, 381}).reshape(2, 5);
            Tensor mask = torch.tensor(new long[] {1, 1, 1, 1, 1, 0, 0, 1, 1, 1}).reshape(2, 5);
            Tensor both = model.forward(batch, mask, HookPlan.empty(), null, LogitsMode.ALL).logits();
            Tensor alone = model.forward(torch.tensor(a).reshape(1, 5), HookPlan.empty()).logits();
            Compare.assertClose(alone.select(0, 0), both.select(0, 0), 1e-5, 1e-5, "unpadded row in a padded batch");
            Compare.assertClose(single.select(0, 0), both.select(0, 1).narrow(0, 2, 3), 1e-5, 1e-5, "left-padded row");
        }
    }
}
