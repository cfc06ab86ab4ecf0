package dev.ivkit.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.DataFormatException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Multiple-choice evaluation by log-likelihood (the lm-evaluation-harness way): for each item, every choice is
 * scored as the summed log-probability of its tokens after the context, teacher-forced; {@code accuracy} takes the
 * choice with the largest sum, {@code accuracyNorm} the largest per-token mean (length-normalised, fairer to choices
 * of different lengths such as HellaSwag endings). Loaders for the HellaSwag / BoolQ / COPA subsets in
 * {@code ../shared/data/general_eval} are included.
 */
public final class MultipleChoiceEval {
    /**
     * One question.
     *
     * @param context the context text
     * @param choices the choice continuations (with their leading space); at least two
     * @param gold    the index of the right choice
     */
    public record Item(String context, List<String> choices, int gold) {
        /**
         * Checks the item and copies {@code choices}.
         *
         * @param context the context text
         * @param choices the choice continuations (with their leading space); at least two
         * @param gold    the index of the right choice
         * @throws InvalidArgumentException when there are fewer than two choices or {@code gold} is not among them
         */
        public Item {
            if (choices == null || choices.size() < 2 || gold < 0 || gold >= choices.size()) {
                throw new InvalidArgumentException("item", "need >= 2 choices and a gold index among them");
            }
            choices = List.copyOf(choices);
        }
    }

    /**
     * Accuracies over a set of items.
     *
     * @param items        the number of items
     * @param accuracy     fraction of items whose largest-sum choice is the gold one
     * @param accuracyNorm fraction of items whose largest per-token-mean choice is the gold one
     */
    public record Result(int items, double accuracy, double accuracyNorm) {}

    private final LlamaModel model;
    private final Tokenizer tokenizer;

    /**
     * An evaluator running {@code model} on text encoded with {@code tokenizer}.
     *
     * @param model     the model
     * @param tokenizer the model's tokenizer
     */
    public MultipleChoiceEval(LlamaModel model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * {sum of log-probabilities, token count} of {@code choice} after {@code context}. A context too long for the
     * model's window loses tokens from its start (the first token, BOS, is kept).
     *
     * @param context the text before the choice
     * @param choice  the continuation scored
     * @return {sum of natural-log probabilities of the choice's tokens, number of those tokens}
     */
    public double[] score(String context, String choice) {
        TokenizedPrompt tp = fitWindow(TokenizedPrompt.of(tokenizer, context, choice), model.config().maxSeqLen());
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            long[] ids = tp.teacherForcedIds();
            int n = tp.targetIds().length, pos = tp.predictPosition();
            Tensor lp = model.forward(torch.tensor(ids).reshape(1, ids.length), null, HookPlan.empty(), null, LogitsMode.ALL,
                    LogitsBuffer.WORKSPACE).logits().select(0, 0)
                    .narrow(0, pos, n).to(torch.ScalarType.Float).log_softmax(1);
            long[] tgt = new long[n];
            for (int i = 0; i < n; i++) {
                tgt[i] = tp.targetIds()[i];
            }
            float[] v = Torch.toFloatArray(Torch.gather(lp, 1, Torch.onDevice(torch.tensor(tgt), lp).unsqueeze(1)));
            double sum = 0;
            for (float x : v) {
                sum += x;
            }
            return new double[] {sum, n};
        }
    }

    static TokenizedPrompt fitWindow(TokenizedPrompt tp, int window) {
        int[] p = tp.promptIds();
        int keep = window - tp.targetIds().length;
        if (p.length <= keep || keep < 2) {
            return tp;
        }
        int[] q = new int[keep];
        q[0] = p[0];
        System.arraycopy(p, p.length - (keep - 1), q, 1, keep - 1);
        return new TokenizedPrompt(q, tp.targetIds());
    }

    /**
     * Scores every choice of every item and picks one per item, by sum and by per-token mean.
     *
     * @param items the questions; at least one
     * @return both accuracies over {@code items}
     * @throws InvalidArgumentException when {@code items} is empty
     */
    public Result run(List<Item> items) {
        if (items.isEmpty()) {
            throw new InvalidArgumentException("items", "nothing to evaluate");
        }
        int ok = 0, okNorm = 0;
        for (Item it : items) {
            double[][] s = new double[it.choices().size()][];
            for (int c = 0; c < s.length; c++) {
                s[c] = score(it.context(), it.choices().get(c));
            }
            ok += pick(s, false) == it.gold() ? 1 : 0;
            okNorm += pick(s, true) == it.gold() ? 1 : 0;
        }
        return new Result(items.size(), (double) ok / items.size(), (double) okNorm / items.size());
    }

    /**
     * The chosen choice: largest sum, or largest sum/tokens; ties go to the first.
     *
     * @param scores     per choice, {sum of log-probabilities, token count} as {@link #score} returns
     * @param normalised rank by sum/tokens instead of the sum
     * @return the index of the chosen choice
     */
    public static int pick(double[][] scores, boolean normalised) {
        int best = 0;
        double bv = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < scores.length; c++) {
            double v = normalised ? scores[c][0] / scores[c][1] : scores[c][0];
            if (v > bv) {
                bv = v;
                best = c;
            }
        }
        return best;
    }

    // ------------------------------------------------------------------------------------------------- loaders

    /**
     * First {@code cap} items of {@code hellaswag_val_first1000.jsonl} ({"ctx","label","endings"}); blank lines are
     * skipped, each ending gets a leading space.
     *
     * @param jsonl           the JSON-lines file
     * @param cap             the most items read
     * @param maxContextChars the context keeps at most this many of its last characters; 0 or less: no limit
     * @return the items in file order
     * @throws DataFormatException when the file cannot be read, or a line is not a record with a label among its endings
     *                             (the record index is the 0-based line)
     */
    public static List<Item> hellaSwag(Path jsonl, int cap, int maxContextChars) {
        List<Item> out = new ArrayList<>();
        List<String> lines = readLines(jsonl);
        for (int i = 0; i < lines.size() && out.size() < cap; i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            int line = i;
            out.add(record(jsonl, line, "a HellaSwag record {\"ctx\", \"label\", \"endings\"} (line " + (line + 1) + ")", () -> {
                JsonObject o = JsonParser.parseString(lines.get(line)).getAsJsonObject();
                List<String> endings = new ArrayList<>();
                for (JsonElement e : o.getAsJsonArray("endings")) {
                    endings.add(" " + e.getAsString());
                }
                int label = o.get("label").getAsInt();
                if (endings.isEmpty() || label < 0 || label >= endings.size()) {
                    throw new IllegalArgumentException("label " + label + " is not an index of its " + endings.size() + " endings");
                }
                return new Item(clip(o.get("ctx").getAsString(), maxContextChars, true), endings, label);
            }));
        }
        return out;
    }

    /**
     * One record parsed by {@code parse}; any failure (malformed JSON, a missing or mistyped member, a bad label) is
     * a {@link DataFormatException} naming the file, the record and what was expected.
     */
    private static Item record(Path file, int index, String what, java.util.function.Supplier<Item> parse) {
        try {
            return parse.get();
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new DataFormatException(file, index, "not " + what + ": " + why, e);
        }
    }

    /** The gold index of {@code output} among {@code names} (case-insensitive, trimmed). */
    private static int gold(JsonObject o, String... names) {
        String out = o.get("output").getAsString().strip();
        for (int k = 0; k < names.length; k++) {
            if (out.equalsIgnoreCase(names[k])) {
                return k;
            }
        }
        throw new IllegalArgumentException("output '" + out + "' is none of " + String.join(", ", names));
    }

    /**
     * BoolQ in SAPT's schema ({"input": "question: …\npassage: …", "output": "True"|"False"}): context = the input cut
     * to {@code maxContextChars} (the passage is cut, the question comes first) + "\nAnswer:", choices " True" / " False".
     *
     * @param testJson        the SAPT test file (an {@code Instances} array)
     * @param cap             the most items read
     * @param maxContextChars the input keeps at most this many of its first characters; 0 or less: no limit
     * @return the items in file order
     * @throws DataFormatException when the file cannot be read, is not JSON with an {@code Instances} array, or an
     *                             instance lacks its input or has an output other than True/False
     */
    public static List<Item> boolQ(Path testJson, int cap, int maxContextChars) {
        List<Item> out = new ArrayList<>();
        List<JsonObject> all = instances(testJson, cap);
        for (int i = 0; i < all.size(); i++) {
            JsonObject o = all.get(i);
            out.add(record(testJson, i, "a BoolQ instance {\"input\", \"output\": True|False}", () ->
                    new Item(clip(o.get("input").getAsString(), maxContextChars, false) + "\nAnswer:", List.of(" True", " False"),
                            gold(o, "True", "False"))));
        }
        return out;
    }

    private static final Pattern COPA = Pattern.compile(
            "Which sentence is the (cause|effect) of \"(.*)\"\\? Choose one between A and B\\.\\s*\\nA: (.*)\\nB: (.*)", Pattern.DOTALL);

    /**
     * COPA in SAPT's schema: the premise and alternatives are parsed out of the input and scored the usual way
     * (premise without its final period + " because" / " so", then each alternative with a lower-cased first letter).
     * An input that does not parse falls back to context = input + "\nAnswer:" with choices " A" / " B".
     *
     * @param testJson the SAPT test file (an {@code Instances} array)
     * @param cap      the most items read
     * @return the items in file order
     * @throws DataFormatException when the file cannot be read, is not JSON with an {@code Instances} array, or an
     *                             instance lacks its input or has an output other than A/B
     */
    public static List<Item> copa(Path testJson, int cap) {
        List<Item> out = new ArrayList<>();
        List<JsonObject> all = instances(testJson, cap);
        for (int i = 0; i < all.size(); i++) {
            JsonObject o = all.get(i);
            out.add(record(testJson, i, "a COPA instance {\"input\", \"output\": A|B}", () -> {
                String in = o.get("input").getAsString();
                int gold = gold(o, "A", "B");
                Matcher m = COPA.matcher(in.strip());
                if (!m.matches()) {
                    return new Item(in + "\nAnswer:", List.of(" A", " B"), gold);
                }
                String premise = m.group(2).strip();
                if (premise.endsWith(".")) {
                    premise = premise.substring(0, premise.length() - 1);
                }
                String conn = m.group(1).equals("cause") ? " because" : " so";
                return new Item(premise + conn, List.of(" " + lowerFirst(m.group(3).strip()), " " + lowerFirst(m.group(4).strip())), gold);
            }));
        }
        return out;
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    /** Cuts text to at most {@code max} characters: keeps the end ({@code keepEnd}) or the start. */
    static String clip(String s, int max, boolean keepEnd) {
        if (max <= 0 || s.length() <= max) {
            return s;
        }
        return keepEnd ? s.substring(s.length() - max) : s.substring(0, max);
    }

    private static List<JsonObject> instances(Path json, int cap) {
        try {
            JsonObject root = JsonParser.parseString(Files.readString(json, StandardCharsets.UTF_8)).getAsJsonObject();
            List<JsonObject> out = new ArrayList<>();
            for (JsonElement e : root.getAsJsonArray("Instances")) {
                if (out.size() >= cap) {
                    break;
                }
                out.add(e.getAsJsonObject());
            }
            return out;
        } catch (IOException | RuntimeException e) {
            throw new DataFormatException(json, -1, "cannot read multiple-choice instances: " + e.getMessage(), e);
        }
    }

    private static List<String> readLines(Path p) {
        try {
            return Files.readAllLines(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataFormatException(p, -1, "cannot read: " + e.getMessage(), e);
        }
    }
}
