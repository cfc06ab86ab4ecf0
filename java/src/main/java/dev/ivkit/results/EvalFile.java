package dev.ivkit.results;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one reader and writer of {@code eval.json}: does an instruction vector make the model do the task. Written by
 * {@code ivkit evaluate}, {@code IvkitModel.evaluate} ({@code pipeline.Evaluation}) and the demo; read by
 * {@code ivkit report}.
 *
 * <p>Schema ({@value #FORMAT}, version {@value #SCHEMA_VERSION}; a file without {@code schema_version}, as written
 * before versions existed, reads as version 1):
 * <pre>
 * {"format": "ivkit-eval", "schema_version": 1,
 *  "ivkit_version", "model", "model_fingerprint",       ({@link Provenance}: all or none)
 *  "iv": the vector's folder (left out for a vector given in memory),
 *  "task": name, "task_file", "prompt_format", "seed",  ({@link Provenance})
 *  "prompts": queries evaluated, "skipped_long_prompts", "shots", "scale", "max_new_tokens",
 *  "layer": the layer the vector was added at, or "sweep",
 *  "settings": {setting name ("zero_shot", "shuffled_N_shot", ...): [
 *     {"layer": -1 for the baseline without the vector, "prompts", "top1", "top2", "top3", "nll",
 *      "exact_match", "f1", "rouge_l" (NaN when no answer was generated)}, ...]}}
 * </pre>
 * Unknown members are ignored; a missing or mistyped known member is an {@link OutputFormatException} naming the file
 * and the member.
 */
public final class EvalFile {
    /** The {@code format} member. */
    public static final String FORMAT = "ivkit-eval";
    /** The schema version written. */
    public static final int SCHEMA_VERSION = 1;
    /** The file name the CLI and the demo write. */
    public static final String NAME = "eval.json";

    private EvalFile() {}

    /**
     * Scores of one setting with the vector at one layer (or without it), averaged over the prompts.
     *
     * @param layer      the layer the vector was added at, -1 for the baseline without it
     * @param prompts    prompts scored
     * @param top1       share whose first answer token ranked first (teacher-forced)
     * @param top2       share within the top 2
     * @param top3       share within the top 3
     * @param nll        mean answer NLL (nats per token)
     * @param exactMatch greedy answer exact match; NaN when no answer was generated
     * @param f1         greedy answer token F1; NaN when no answer was generated
     * @param rougeL     greedy answer ROUGE-L; NaN when no answer was generated
     */
    public record LayerScore(int layer, int prompts, double top1, double top2, double top3, double nll,
            double exactMatch, double f1, double rougeL) {}

    /**
     * How the evaluation ran.
     *
     * @param iv                 the vector's folder, or null for a vector given in memory (left out)
     * @param prompts            held-out queries evaluated (those that fit the context)
     * @param skippedLongPrompts queries left out as longer than the context
     * @param shots              demonstrations of the shuffled-label setting; 0 when there is none
     * @param scale              multiplier of the vector
     * @param maxNewTokens       greedy answer length; 0 for teacher-forced scores only
     * @param layer              the layer the vector was added at, or null for a sweep over every layer
     */
    public record Run(String iv, int prompts, int skippedLongPrompts, int shots, float scale, int maxNewTokens,
            Integer layer) {
        /** @return whether the vector was evaluated at every layer */
        public boolean sweep() {
            return layer == null;
        }
    }

    /**
     * The whole file.
     *
     * @param schemaVersion the version read (written: {@link #SCHEMA_VERSION})
     * @param provenance    model, task file and seed; null when the writer had none (left out)
     * @param task          the task's name
     * @param run           how the evaluation ran
     * @param settings      per setting, in file order: the baseline (layer -1) then the vector's layers
     */
    public record Eval(int schemaVersion, Provenance provenance, String task, Run run,
            Map<String, List<LayerScore>> settings) {
        /**
         * Copies {@code settings} (keeping its order) so the record cannot change under its holder.
         *
         * @param schemaVersion the version read
         * @param provenance    model, task file and seed; may be null
         * @param task          the task's name
         * @param run           how the evaluation ran
         * @param settings      per setting, the baseline then the vector's layers
         */
        public Eval {
            Map<String, List<LayerScore>> copy = new LinkedHashMap<>();
            settings.forEach((k, v) -> copy.put(k, List.copyOf(v)));
            settings = Collections.unmodifiableMap(copy);
        }

        /**
         * An evaluation of the current schema version.
         *
         * @param provenance model, task file and seed; may be null
         * @param task       the task's name
         * @param run        how the evaluation ran
         * @param settings   per setting, the baseline then the vector's layers
         * @return the record
         */
        public static Eval of(Provenance provenance, String task, Run run, Map<String, List<LayerScore>> settings) {
            return new Eval(SCHEMA_VERSION, provenance, task, run, settings);
        }
    }

    /**
     * The file's text: the schema above (the current version; provenance and {@code iv} left out when null), a final
     * newline.
     *
     * @param e the evaluation
     * @return the JSON text
     */
    public static String toJson(Eval e) {
        return JsonMembers.JSON.toJson(tree(e)) + "\n";
    }

    /**
     * Writes {@code e} to {@code file} atomically.
     *
     * @param file the target, usually {@code DIR/eval.json}
     * @param e    the evaluation
     */
    public static void write(Path file, Eval e) {
        JsonMembers.write(file, tree(e));
    }

    private static JsonObject tree(Eval e) {
        Provenance p = e.provenance();
        Run r = e.run();
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("schema_version", SCHEMA_VERSION);
        if (p != null) {
            o.addProperty("ivkit_version", p.ivkitVersion());
            o.addProperty("model", p.model());
            o.addProperty("model_fingerprint", p.modelFingerprint());
        }
        if (r.iv() != null) {
            o.addProperty("iv", r.iv());
        }
        o.addProperty("task", e.task());
        if (p != null) {
            o.addProperty("task_file", p.taskFile());
            o.addProperty("prompt_format", p.promptFormat());
            o.addProperty("seed", p.seed());
        }
        o.addProperty("prompts", r.prompts());
        o.addProperty("skipped_long_prompts", r.skippedLongPrompts());
        o.addProperty("shots", r.shots());
        o.addProperty("scale", r.scale());
        o.addProperty("max_new_tokens", r.maxNewTokens());
        if (r.sweep()) {
            o.addProperty("layer", "sweep");
        } else {
            o.addProperty("layer", r.layer());
        }
        JsonObject settings = new JsonObject();
        for (Map.Entry<String, List<LayerScore>> s : e.settings().entrySet()) {
            JsonArray a = new JsonArray();
            for (LayerScore x : s.getValue()) {
                JsonObject m = new JsonObject();
                m.addProperty("layer", x.layer());
                m.addProperty("prompts", x.prompts());
                m.addProperty("top1", x.top1());
                m.addProperty("top2", x.top2());
                m.addProperty("top3", x.top3());
                m.addProperty("nll", x.nll());
                m.addProperty("exact_match", x.exactMatch());
                m.addProperty("f1", x.f1());
                m.addProperty("rouge_l", x.rougeL());
                a.add(m);
            }
            settings.add(s.getKey(), a);
        }
        o.add("settings", settings);
        return o;
    }

    /**
     * Reads {@code file}.
     *
     * @param file an {@code eval.json}
     * @return its content
     * @throws OutputFormatException naming the file (and member) where it cannot be read, is not an eval file of a
     *                               version this ivkit reads, or a member is missing or mistyped
     */
    public static Eval read(Path file) {
        return parse(JsonMembers.readText(file), file);
    }

    /**
     * Parses an {@code eval.json}'s text.
     *
     * @param text the JSON text
     * @param file the file it came from, named in errors
     * @return its content
     * @throws OutputFormatException as {@link #read}
     */
    public static Eval parse(String text, Path file) {
        JsonMembers o = JsonMembers.root(text, file, FORMAT, SCHEMA_VERSION);
        Provenance p = Provenance.read(o);
        String task = o.string("task", true);
        JsonElement layer = o.raw("layer");
        Integer at;
        if (layer != null && layer.isJsonPrimitive() && layer.getAsJsonPrimitive().isString()
                && "sweep".equals(layer.getAsString())) {
            at = null;
        } else if (layer != null && layer.isJsonPrimitive() && layer.getAsJsonPrimitive().isNumber()) {
            at = o.integer("layer", true);
        } else {
            throw o.error("layer", layer == null ? "missing" : "expected a layer number or \"sweep\", got " + layer);
        }
        Run run = new Run(o.string("iv", false), o.integer("prompts", true), o.integer("skipped_long_prompts", true),
                o.integer("shots", true), (float) o.number("scale"), o.integer("max_new_tokens", true), at);
        JsonMembers settings = o.object("settings");
        Map<String, List<LayerScore>> out = new LinkedHashMap<>();
        for (String name : settings.keys()) {
            List<LayerScore> rows = new ArrayList<>();
            for (JsonMembers r : settings.objects(name)) {
                rows.add(new LayerScore(r.integer("layer", true), r.integer("prompts", true), r.number("top1"),
                        r.number("top2"), r.number("top3"), r.number("nll"), r.number("exact_match"), r.number("f1"),
                        r.number("rouge_l")));
            }
            out.put(name, rows);
        }
        return new Eval(o.version(), p, task, run, out);
    }
}
