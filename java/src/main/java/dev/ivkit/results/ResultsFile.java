package dev.ivkit.results;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.annotations.SerializedName;
import dev.ivkit.eval.ForgettingMetrics;
import dev.ivkit.util.AtomicFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one reader and writer of a continual study's {@code results.json}, written by {@code ivkit continual}
 * ({@link dev.ivkit.continual.SequenceRunner}) and {@code ivkit demo} ({@link dev.ivkit.demo.Demo}).
 *
 * <p>Schema ({@value #FORMAT}, version {@value #SCHEMA_VERSION}); optional members are left out, not written null:
 * <pre>
 * {"format": "ivkit-results", "schema_version": 1,
 *  "sequence": name, "tasks": [task names], "task_metrics": [per task: first_token | em | rouge_l],
 *  "definitions": {term: text}, "spec": {the study's spec; continual only},
 *  "initial": {"accuracy": [b_j], "iv": [{"task", "layer", "heads", "cie", "layer_sweep_top1", ...}],
 *              "knowledge": [{"task", "knowledge_p", "instruction_p"}], ...},
 *  "methods": {method: {
 *     "seeds": {seed: {"accuracy_matrix": [[R_ij]], "AP", "BWT", "FWT" (null where undefined),
 *                      "train_loss_last": [per task], "general": [per task; continual only],
 *                      "iv_dynamics": [per stage: [{"task", "task_index", "accuracy", "iv_cosine", "head_jaccard",
 *                                       "recovery": {"accuracy_with_pre_iv", "lost", "regained", "share_regained",
 *                                                    "share_reason" (only where the share is null)},
 *                                       "knowledge", "knowledge_by_task" (demo), ...}]],
 *                      "per_task_instruction_accuracy": [per stage: [per pretrained task]; demo only]}},
 *     "summary": {"AP" | "BWT" | "FWT": {@link Spread} over the seeds}}}}
 * </pre>
 * The per-stage and initial measurements differ between the two writers and are kept as JSON trees; everything
 * above them is typed here. A {@code share_regained} is defined only where {@code lost} ≥ {@value RecoveryScore#LOST_FLOOR}
 * and then lies in [−1, 2] ({@link RecoveryScore}); in a file that has {@code regained} (written since that rule) a share
 * outside it is refused on reading. Members added since version 1 are optional, so version-1 files of either kind read.
 */
public final class ResultsFile {
    /** The {@code format} member of every results file. */
    public static final String FORMAT = "ivkit-results";
    /** The schema version this ivkit writes, and the newest it reads. */
    public static final int SCHEMA_VERSION = 1;
    /** Pretty, nulls kept (an undefined metric is an explicit null), no HTML escaping. */
    public static final Gson JSON = new GsonBuilder().serializeNulls().setPrettyPrinting().disableHtmlEscaping().create();

    private ResultsFile() {}

    /** The whole file. */
    public record Results(String format, @SerializedName("schema_version") int schemaVersion, String sequence,
            List<String> tasks, @SerializedName("task_metrics") List<String> taskMetrics, Map<String, String> definitions,
            Object spec, Map<String, Object> initial, Map<String, MethodResults> methods) {
        /**
         * A results file of the current format and version ({@code spec} may be null: left out).
         *
         * @param sequence the sequence's name
         * @param tasks the task names, in training order
         * @param taskMetrics per task, the metric its accuracy is (first_token, em or rouge_l)
         * @param definitions the terms the file uses, each with its definition
         * @param spec the study's spec (continual only), or null
         * @param initial the measurements before the first task
         * @param methods per method, its seeds and summary
         * @return the file's contents, format and schema version filled in
         */
        public static Results of(String sequence, List<String> tasks, List<String> taskMetrics, Map<String, String> definitions,
                Object spec, Map<String, Object> initial, Map<String, MethodResults> methods) {
            return new Results(FORMAT, SCHEMA_VERSION, sequence, tasks, taskMetrics, definitions, spec, initial, methods);
        }

        /**
         * {@code initial.iv}, typed: each task's instruction vector on the base model; null when absent.
         *
         * @return the entries in file order, or null
         */
        public List<InitialIv> initialIvs() {
            return initial == null ? null : new ResultsShape("results").initialIvs(JSON.toJsonTree(initial.get("iv")), "initial.iv");
        }

        /**
         * {@code initial.knowledge}, typed.
         *
         * @return the base model's probe per task; null when absent
         */
        public List<Knowledge> initialKnowledge() {
            return initial == null ? null : new ResultsShape("results").knowledge(JSON.toJsonTree(initial.get("knowledge")),
                    "initial.knowledge");
        }

        /**
         * A number of {@code initial} (for example the demo's {@code icl_accuracy} or {@code iv_cross_cosine}).
         *
         * @param name the member's name
         * @return its value; null when absent or null
         * @throws ResultsFormatException naming {@code initial.NAME} when it is not a number
         */
        public Double initialNumber(String name) {
            return initial == null ? null : new ResultsShape("results").number(JSON.toJsonTree(initial.get(name)), "initial." + name);
        }
    }

    /** One method: every seed's run and the AP/BWT/FWT spread over them. */
    public record MethodResults(Map<String, SeedResults> seeds, Map<String, Spread> summary) {
        /**
         * The seeds in order (keys as written) and their summary.
         *
         * @param seeds every seed's run, keyed by seed as written
         * @return the seeds with their AP/BWT/FWT spread
         */
        public static MethodResults of(Map<String, SeedResults> seeds) {
            List<SeedResults> v = List.copyOf(seeds.values());
            Map<String, Spread> s = new LinkedHashMap<>();
            s.put("AP", Spread.of(v, r -> orNaN(r.ap())));
            s.put("BWT", Spread.of(v, r -> orNaN(r.bwt())));
            s.put("FWT", Spread.of(v, r -> orNaN(r.fwt())));
            return new MethodResults(seeds, s);
        }
    }

    /** One seed's run of a method; {@code general} and {@code perTaskInstructionAccuracy} may be null (left out). */
    public record SeedResults(@SerializedName("accuracy_matrix") double[][] accuracyMatrix, @SerializedName("AP") Double ap,
            @SerializedName("BWT") Double bwt, @SerializedName("FWT") Double fwt,
            @SerializedName("train_loss_last") List<Double> trainLossLast, List<Object> general,
            @SerializedName("iv_dynamics") List<Object> ivDynamics,
            @SerializedName("per_task_instruction_accuracy") List<double[]> perTaskInstructionAccuracy) {
        /**
         * AP, BWT and FWT of {@code matrix} against the initial scores {@code b} ({@link ForgettingMetrics}).
         *
         * @param matrix the accuracy matrix R: row i after training task i, column j task j
         * @param b the initial accuracy of each task (before any training)
         * @param trainLossLast per task, the last training loss
         * @param general per task, the general-ability scores (continual), or null
         * @param ivDynamics per stage, the IV measurements of every task
         * @param perTaskInstructionAccuracy per stage, the accuracy on each pretrained task (demo), or null
         * @return the run with its AP, BWT and FWT (null where undefined)
         */
        public static SeedResults of(double[][] matrix, double[] b, List<Double> trainLossLast, List<Object> general,
                List<Object> ivDynamics, List<double[]> perTaskInstructionAccuracy) {
            ForgettingMetrics.Summary f = ForgettingMetrics.of(matrix, b);
            return new SeedResults(matrix, Spread.num(f.ap()), Spread.num(f.bwt()), Spread.num(f.fwt()), trainLossLast, general,
                    ivDynamics, perTaskInstructionAccuracy);
        }

        /**
         * {@code iv_dynamics}, typed.
         *
         * @return per stage (null where a stage has none), the per-task entries; null when absent
         */
        public List<List<DynamicsEntry>> dynamics() {
            return ivDynamics == null ? null : new ResultsShape("results").dynamics(JSON.toJsonTree(ivDynamics), "iv_dynamics");
        }
    }

    /**
     * One task's entry of a stage of {@code iv_dynamics} (the writers may add more members; any may be absent: null).
     *
     * @param task            its name
     * @param taskIndex       its index in {@code tasks}
     * @param accuracy        its score at this stage
     * @param ivCosine        cosine of its IV now to its IV on the base model
     * @param headJaccard     overlap of the top-k heads now and on the base model
     * @param recovery        the recovery test (tasks trained before this stage)
     * @param knowledge       the knowledge probe at this stage
     * @param knowledgeByTask where the entry pools several tasks (the demo's pretrained abilities), the probe of each,
     *                        named as in {@code initial.knowledge}; null otherwise
     * @param iclAccuracy     the demo's pretrained abilities: mean 5-shot accuracy at this stage where measured (the
     *                        last stage); null otherwise (an optional member: older files read with it null)
     */
    public record DynamicsEntry(String task, Integer taskIndex, Double accuracy, Double ivCosine, Double headJaccard, Recovery recovery,
            Knowledge knowledge, List<Knowledge> knowledgeByTask, Double iclAccuracy) {}

    /**
     * The recovery test of a task at a stage: its base-model IV added to the current model ({@link RecoveryScore}).
     * Files written before {@code regained} and {@code share_reason} existed read with those null (same schema version:
     * both are optional members).
     *
     * @param accuracyWithPreIv its score with the IV
     * @param lost              the score lost since it was learned
     * @param regained          score with the IV − score without it (absolute points); null in older files
     * @param shareRegained     regained / lost, only where lost ≥ {@value RecoveryScore#LOST_FLOOR}; else null
     * @param shareReason       why the share is null (for example {@code "lost 0.030 < 0.5"}); null where it is defined
     */
    public record Recovery(Double accuracyWithPreIv, Double lost, Double regained, Double shareRegained, String shareReason) {}

    /**
     * A task's instruction vector on the base model ({@code initial.iv[]}); members absent from the file are null.
     *
     * @param task           the task
     * @param cie            its CIE map [layer][head]
     * @param layerSweepTop1 top-1 accuracy with the IV added at each layer (layer -1: without it)
     * @param everyToken     whether the IV is added at every generated token, not only the last prompt token
     */
    public record InitialIv(String task, double[][] cie, List<LayerTop1> layerSweepTop1, Boolean everyToken) {}

    /**
     * One point of a layer sweep.
     *
     * @param layer the layer the IV is added at (-1: without the IV)
     * @param top1  the top-1 accuracy there
     */
    public record LayerTop1(Double layer, Double top1) {}

    /**
     * The knowledge probe of a task: mean P(answer | bare query) and P(answer | instruction, query).
     *
     * @param task the task (in {@code initial.knowledge}; null inside {@code iv_dynamics})
     */
    public record Knowledge(String task, Double knowledgeP, Double instructionP) {}

    private static double orNaN(Double d) {
        return d == null ? Double.NaN : d;
    }

    /**
     * The file's text: the schema above, optional members that are null left out, a final newline.
     *
     * @param r the results
     * @return the JSON text
     */
    public static String toJson(Results r) {
        JsonObject o = JSON.toJsonTree(r).getAsJsonObject();
        dropNull(o, "spec");
        for (Map.Entry<String, JsonElement> m : o.getAsJsonObject("methods").entrySet()) {
            for (Map.Entry<String, JsonElement> s : m.getValue().getAsJsonObject().getAsJsonObject("seeds").entrySet()) {
                dropNull(s.getValue().getAsJsonObject(), "general");
                dropNull(s.getValue().getAsJsonObject(), "per_task_instruction_accuracy");
            }
        }
        return JSON.toJson(o) + "\n";
    }

    private static void dropNull(JsonObject o, String k) {
        if (o.has(k) && o.get(k).isJsonNull()) {
            o.remove(k);
        }
    }

    /**
     * Writes {@code r} to {@code f} atomically.
     *
     * @param f the file to write
     * @param r the results
     */
    public static void write(Path f, Results r) {
        AtomicFiles.writeString(f, toJson(r));
    }

    /**
     * Reads {@code f}; a {@link ResultsFormatException} naming the file (and the member) where it is not a results file of
     * a known version or a known member has the wrong shape.
     *
     * @param f the file to read
     * @return the parsed results
     * @throws dev.ivkit.IvkitException when {@code f} cannot be read; a {@link ResultsFormatException} when it is malformed, is
     *                                  not a results file of a known version or a known member has the wrong shape
     */
    public static Results read(Path f) {
        return parse(StudyFiles.readString(f), f.toString());
    }

    /**
     * Parses a results file's text ({@code where} names it in errors); see {@link #read}.
     *
     * @param text the file's text
     * @param where the file's name, for error messages
     * @return the parsed results
     * @throws ResultsFormatException when the text is malformed or not a results file of a known version
     */
    public static Results parse(String text, String where) {
        try {
            JsonElement el = JsonParser.parseString(text);
            if (!el.isJsonObject()) {
                throw new ResultsFormatException(where, null, "not a results file (expected a JSON object)");
            }
            JsonObject o = el.getAsJsonObject();
            String format = o.has("format") && o.get("format").isJsonPrimitive() ? o.get("format").getAsString() : null;
            if (!FORMAT.equals(format)) {
                throw new ResultsFormatException(where, null, "not a results file (format " + format + ", expected " + FORMAT + ")");
            }
            JsonElement v = o.get("schema_version");
            int version = v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber() ? v.getAsInt() : -1;
            if (version < 1 || version > SCHEMA_VERSION) {
                throw new ResultsFormatException(where, null, "results schema_version " + v + " is not one this ivkit reads (1.."
                        + SCHEMA_VERSION + ")");
            }
            new ResultsShape(where).check(o);
            return JSON.fromJson(o, Results.class);
        } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
            throw new ResultsFormatException(where, null, "malformed results file: " + e.getMessage(), e);
        }
    }
}
