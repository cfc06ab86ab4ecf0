package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reference encodings of real-model tokenizers written by {@code java/src/test/node/tokref/tokref.js} (run by
 * {@code .ci/run} before the build): {@code DIR/NAME/tokenizer.json}, {@code DIR/NAME/reference.json} and
 * {@code DIR/NAME/tokenizer_config.upstream.json}. {@code DIR} is the system property {@code ivkit.tokref}, else the
 * environment variable {@code IVKIT_TOKREF}, else {@code target/tokref} (relative to {@code java/}, where surefire
 * runs). Missing files skip the tests (each is reported skipped, with the reason), unless
 * {@code IVKIT_TOKREF_REQUIRED=1} (set by {@code .ci/run}) makes them a failure.
 */
final class TokRef {
    /** One text and what the JS tokenizer made of it. */
    record Case(String text, int[] idsWithSpecial, int[] idsWithout, String decoded, String decodedSkipSpecial) {}

    /** One tokenizer's reference set. */
    record Ref(String name, String source, Path tokenizerJson, Path upstreamConfig, List<Case> cases) {}

    private static final String HOW = "generate them with: cd java/src/test/node/tokref && npm ci && "
            + "node tokref.js texts.json ../../../../target/tokref (needs node and npm, and the npm registry once), "
            + "or run .ci/run";

    private TokRef() {}

    static Path dir() {
        String p = System.getProperty("ivkit.tokref");
        if (p == null || p.isBlank()) {
            p = System.getenv("IVKIT_TOKREF");
        }
        return p == null || p.isBlank() ? Path.of("target", "tokref") : Path.of(p);
    }

    static boolean required() {
        return "1".equals(System.getenv("IVKIT_TOKREF_REQUIRED")) || Boolean.getBoolean("ivkit.tokref.required");
    }

    /**
     * Why the reference set {@code name} cannot be used (its files are missing), or null when it can; fails instead
     * when {@link #required()}.
     */
    static String missing(String name) {
        Path d = dir().resolve(name);
        if (Files.isRegularFile(d.resolve("tokenizer.json")) && Files.isRegularFile(d.resolve("reference.json"))) {
            return null;
        }
        String msg = "no reference encodings for " + name + " under " + d.toAbsolutePath() + "; " + HOW;
        if (required()) {
            fail(msg + " (IVKIT_TOKREF_REQUIRED=1: they must be there)");
        }
        return msg;
    }

    /** The reference set {@code name}, which must exist ({@link #missing} is null). */
    static Ref load(String name) {
        Path d = dir().resolve(name);
        Path json = d.resolve("tokenizer.json");
        Path refFile = d.resolve("reference.json");
        try {
            JsonObject o = JsonParser.parseString(Files.readString(refFile)).getAsJsonObject();
            List<Case> cases = new ArrayList<>();
            for (JsonElement e : o.getAsJsonArray("cases")) {
                JsonObject c = e.getAsJsonObject();
                cases.add(new Case(c.get("text").getAsString(), ints(c.getAsJsonArray("ids_with_special")),
                        ints(c.getAsJsonArray("ids_without")), c.get("decoded").getAsString(),
                        c.get("decoded_skip_special").getAsString()));
            }
            checkTexts(name, cases);
            return new Ref(o.get("name").getAsString(), o.get("source").getAsString(), json,
                    d.resolve("tokenizer_config.upstream.json"), cases);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The references must be of the committed text list (else they are stale: regenerate them). */
    private static void checkTexts(String name, List<Case> cases) throws IOException {
        Path texts = Path.of("src", "test", "node", "tokref", "texts.json");
        if (!Files.isRegularFile(texts)) {
            return; // not run from java/ (an IDE): nothing to compare with
        }
        JsonArray a = JsonParser.parseString(Files.readString(texts)).getAsJsonArray();
        List<String> want = new ArrayList<>();
        a.forEach(e -> want.add(e.getAsString()));
        List<String> got = cases.stream().map(Case::text).toList();
        assertEquals(want, got, "reference encodings of " + name + " are stale (texts.json changed); " + HOW);
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
