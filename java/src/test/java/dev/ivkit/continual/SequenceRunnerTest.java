package dev.ivkit.continual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.results.RecoveryScore;
import dev.ivkit.results.ResultsAssertions;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequenceRunnerTest {
    /** The first two tasks of seq1 with tiny caps, short "Input/Output" prompts and a large LR for stories260K. */
    static SequenceSpec tinySeq1() {
        SequenceSpec s = SequenceSpec.builtin("seq1");
        s.tasks = s.tasks.subList(0, 2);
        s.prompt = "io";
        s.trainCap = 16;
        s.testCap = 4;
        s.ivPrompts = 2;
        s.probeCap = 2;
        s.layerSweep = false;
        s.maxInputChars = 120;
        s.hyper.lr = 1e-2;
        s.hyper.batchSize = 8;
        s.hyper.gradAccum = 1;
        s.hyper.ivHeads = 4;
        s.hyper.ewcExamples = 4;
        s.hyper.replayPerTask = 4;
        s.hyper.replayRatio = 0.25;
        s.general.hellaswag = 2;
        s.general.boolq = 2;
        s.general.copa = 2;
        s.general.maxContextChars = 200;
        return s.copy();
    }

    static SequenceRunner runner(SequenceSpec s, Path out) {
        Path model = SharedData.stories260K();
        return new SequenceRunner(s, SharedData.root().resolve("data"), model.resolve("stories260K.bin"), model.resolve("tok512.bin"), out);
    }

    @Test
    void builtinSequencesParseAndNameTheirFallbacks() {
        assertEquals(List.of(618, 1290, 589, 511, 1357), SequenceSpec.builtin("seq0").tasks.stream().map(t -> t.id).toList());
        assertEquals(List.of(195, 1343, 1310, 1292, 363), SequenceSpec.builtin("seq1").tasks.stream().map(t -> t.id).toList());
        SequenceSpec s2 = SequenceSpec.builtin("seq2");
        assertEquals(List.of(360, 363, 1290, 339, 1510), s2.tasks.stream().map(t -> t.id).toList());
        assertEquals("dev", s2.tasks.get(3).train.split);    // task339: no SAPO train → SAPO dev
        assertEquals("superni", s2.tasks.get(2).train.format);   // task1290: SAPT train
        for (String n : List.of("seq0", "seq1", "seq2")) {
            for (SequenceSpec.Task t : SequenceSpec.builtin(n).tasks) {
                for (SequenceSpec.Source src : List.of(t.train, t.test)) {
                    Path p = SharedData.root().resolve("data").resolve(src.path);
                    assertTrue(Files.exists("sapo".equals(src.format) ? p.resolve(src.split + ".json") : p), n + " " + t.name + " " + src.path);
                }
            }
        }
        assertThrows(dev.ivkit.InvalidArgumentException.class, () -> SequenceSpec.parse("{\"tasks\": []}", "x"));
        // em and rouge_l score generated text: no tokens to generate is refused before anything is trained
        String em = "{\"tasks\": [{\"name\": \"t\", \"metric\": \"em\", \"max_new_tokens\": 0, "
                + "\"train\": {\"path\": \"a\", \"format\": \"superni\"}, \"test\": {\"path\": \"b\", \"format\": \"superni\"}}]}";
        dev.ivkit.InvalidArgumentException e = assertThrows(dev.ivkit.InvalidArgumentException.class, () -> SequenceSpec.parse(em, "x"));
        assertTrue(e.getMessage().contains("task t") && e.getMessage().contains("max_new_tokens"), e.getMessage());
        SequenceSpec.parse(em.replace("\"em\"", "\"first_token\""), "x");   // the first token needs no generation
    }

    /**
     * The continual runner with the exact reference cache (2 epochs per task, so the second epoch re-visits every
     * example): the same accuracies as without it and train losses within float rounding (the cache's rows are the
     * uncached pass's logits; only the order of some sums differs). A top-8 cache, whose KL is coarse-grained, moves the
     * iv-guided losses: the setting reaches the runner's regularisers.
     */
    @Test
    void exactReferenceCacheInTheContinualRunnerMatchesNoCache(@TempDir Path tmp) throws Exception {
        SequenceSpec s = tinySeq1();
        s.hyper.epochs = 2;
        List<Method> methods = List.of(Method.IV_GUIDED, Method.LWF);
        JsonObject off = JsonParser.parseString(Files.readString(runner(s.copy(), tmp.resolve("off")).run(methods, List.of(1L))))
                .getAsJsonObject().getAsJsonObject("methods");
        s.hyper.referenceCache = "exact";
        JsonObject exact = JsonParser.parseString(Files.readString(runner(s.copy(), tmp.resolve("exact")).run(methods, List.of(1L))))
                .getAsJsonObject().getAsJsonObject("methods");
        for (Method m : methods) {
            JsonObject a = off.getAsJsonObject(m.id).getAsJsonObject("seeds").getAsJsonObject("1");
            JsonObject b = exact.getAsJsonObject(m.id).getAsJsonObject("seeds").getAsJsonObject("1");
            assertEquals(a.get("accuracy_matrix"), b.get("accuracy_matrix"), m.id);
            JsonArray la = a.getAsJsonArray("train_loss_last"), lb = b.getAsJsonArray("train_loss_last");
            assertEquals(la.size(), lb.size(), m.id);
            for (int i = 0; i < la.size(); i++) {
                double x = la.get(i).getAsDouble();
                assertEquals(x, lb.get(i).getAsDouble(), 1e-5 * Math.abs(x) + 1e-7, m.id + " task " + i + " last train loss");
            }
        }
        s.hyper.referenceCache = "8";
        JsonObject top8 = JsonParser.parseString(Files.readString(runner(s.copy(), tmp.resolve("top8")).run(List.of(Method.IV_GUIDED),
                List.of(1L)))).getAsJsonObject().getAsJsonObject("methods");
        JsonArray la = off.getAsJsonObject("iv-guided").getAsJsonObject("seeds").getAsJsonObject("1").getAsJsonArray("train_loss_last");
        JsonArray l8 = top8.getAsJsonObject("iv-guided").getAsJsonObject("seeds").getAsJsonObject("1").getAsJsonArray("train_loss_last");
        assertTrue(Math.abs(la.get(0).getAsDouble() - l8.get(0).getAsDouble()) > 1e-4 * Math.abs(la.get(0).getAsDouble()),
                "top-8 cache: the first task's last loss " + l8.get(0) + " vs " + la.get(0));
    }

    @Test
    void twoTasksOfSeq1EndToEndAndAResumedRunWritesTheSameResults(@TempDir Path tmp) throws Exception {
        SequenceSpec s = tinySeq1();
        List<Method> methods = List.of(Method.NAIVE, Method.IV_GUIDED, Method.LWF, Method.EWC, Method.REPLAY, Method.OLORA);
        Path full = runner(s, tmp.resolve("full")).run(methods, List.of(1L));
        JsonObject r = JsonParser.parseString(Files.readString(full)).getAsJsonObject();
        for (Method m : methods) {
            JsonObject run = r.getAsJsonObject("methods").getAsJsonObject(m.id).getAsJsonObject("seeds").getAsJsonObject("1");
            JsonArray mat = run.getAsJsonArray("accuracy_matrix");
            assertEquals(2, mat.size());
            assertEquals(2, mat.get(0).getAsJsonArray().size());
            assertNotNull(run.get("BWT"), m.id);
            assertEquals(run.get("AP").getAsDouble(), (mat.get(1).getAsJsonArray().get(0).getAsDouble() + mat.get(1).getAsJsonArray().get(1).getAsDouble()) / 2, 1e-12);
            JsonArray dyn = run.getAsJsonArray("iv_dynamics");
            assertEquals(2, dyn.get(1).getAsJsonArray().size());
            JsonObject first = dyn.get(1).getAsJsonArray().get(0).getAsJsonObject();
            assertTrue(first.has("iv_cosine") && first.has("head_jaccard") && first.has("recovery") && first.has("knowledge"), first.toString());
            // the recovery test: points regained = with the IV - without; a share only from a loss of 0.5, else the reason
            JsonObject rec = first.getAsJsonObject("recovery");
            assertEquals(rec.get("accuracy_with_pre_iv").getAsDouble() - first.get("accuracy").getAsDouble(), rec.get("regained").getAsDouble(),
                    1e-12, rec.toString());
            assertTrue(rec.get("share_regained").isJsonNull() ? rec.get("lost").getAsDouble() < RecoveryScore.LOST_FLOOR && rec.has("share_reason")
                    : RecoveryScore.inRange(rec.get("share_regained").getAsDouble()) && !rec.has("share_reason"), rec.toString());
        }
        assertEquals(2, r.getAsJsonObject("initial").getAsJsonArray("accuracy").size());
        // the schema the demo writes too, read through the one owner of the file
        ResultsAssertions.assertResults(full, methods.stream().map(m -> m.id).toList(), 1);

        // kill after the first task of the second method, then re-run
        Path cut = tmp.resolve("cut");
        SequenceRunner killer = runner(s, cut).afterTask((m, seed, k) -> {
            if (m == Method.IV_GUIDED && k == 0) {
                throw new IllegalStateException("simulated kill after task 1");
            }
        });
        assertThrows(IllegalStateException.class, () -> killer.run(methods, List.of(1L)));
        assertTrue(Files.exists(cut.resolve("runs/iv-guided/seed-1/state.json")));
        Path resumed = runner(s, cut).run(methods, List.of(1L));
        assertEquals(Files.readString(full), Files.readString(resumed));
    }
}
