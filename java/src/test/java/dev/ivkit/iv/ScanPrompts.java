package dev.ivkit.iv;

import dev.ivkit.data.prompt.TokenizedPrompt;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Test prompts in Todd et al.'s Q:/A: format from real function-vector task files, tokenized with a real tokenizer. */
final class ScanPrompts {
    private ScanPrompts() {}

    static List<String[]> pairs(Path json) throws Exception {
        JsonArray a = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
        List<String[]> out = new ArrayList<>();
        for (JsonElement e : a) {
            out.add(new String[] {e.getAsJsonObject().get("input").getAsString(), e.getAsJsonObject().get("output").getAsString()});
        }
        return out;
    }

    /** {@code count} prompts of {@code shots} demonstrations each; labels of demos shuffled when asked. */
    static List<TokenizedPrompt> build(Tokenizer tok, Path json, int shots, int count, boolean shuffled, long seed) throws Exception {
        List<String[]> all = pairs(json);
        Random rng = new Random(seed);
        List<TokenizedPrompt> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Collections.shuffle(all, rng);
            List<String[]> demos = all.subList(0, shots);
            String[] query = all.get(shots);
            List<String> labels = new ArrayList<>();
            for (String[] d : demos) {
                labels.add(d[1]);
            }
            if (shuffled) {
                Collections.shuffle(labels, rng);
            }
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < shots; k++) {
                sb.append("Q: ").append(demos.get(k)[0]).append("\nA: ").append(labels.get(k)).append("\n\n");
            }
            sb.append("Q: ").append(query[0]).append("\nA:");
            int[] prompt = tok.encode(sb.toString(), true);
            int[] full = tok.encode(sb + " " + query[1], true);
            int[] target = java.util.Arrays.copyOfRange(full, prompt.length, full.length);
            out.add(new TokenizedPrompt(prompt, target.length == 0 ? new int[] {full[full.length - 1]} : target));
        }
        return out;
    }
}
