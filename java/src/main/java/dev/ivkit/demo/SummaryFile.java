package dev.ivkit.demo;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.annotations.SerializedName;
import dev.ivkit.IvkitException;
import dev.ivkit.results.RecoveryScore;
import dev.ivkit.results.ResultsFile;
import dev.ivkit.results.Spread;
import dev.ivkit.results.StudyFiles;
import dev.ivkit.util.AtomicFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The one reader and writer of the demo's {@code summary.json} ({@code ivkit demo}, {@link dev.ivkit.demo.Demo}).
 *
 * <p>Schema ({@value #FORMAT}, version {@value #SCHEMA_VERSION}):
 * <pre>
 * {"format": "ivkit-demo-summary", "schema_version": 1,
 *  "icl_accuracy", "instruction_accuracy", "zero_shot_accuracy", "zero_shot_iv_accuracy": organism means,
 *  "by_kind": {kind: {the same four}},
 *  "tasks": [{"task", "kind", "pretrain", the same four, "iv_layer"}],
 *  "methods": {method: {metric: {@link Spread} over the seeds}},   (iv_recovery: points regained; iv_recovery_share:
 *                                                                 the share where defined, in [−1, 2])
 *  "settings": {the demo's settings}, "definitions": {term: text}}
 * </pre>
 * Every accuracy is a JSON number where finite and null where undefined (no task of a kind, no IV for a held-out
 * task): the NaN policy of {@link Spread#num}. Files written before {@code iv_recovery_share} existed (their
 * {@code iv_recovery} a share with a 0.02 floor) read as they are: method metrics are an open map, so the version stays 1.
 */
public final class SummaryFile {
    /** The {@code format} member of every summary file. */
    public static final String FORMAT = "ivkit-demo-summary";
    /** The newest schema version this ivkit writes and reads. */
    public static final int SCHEMA_VERSION = 1;
    /** The method metric that is a recovery share ({@link RecoveryScore}): its mean must lie in [−1, 2]. */
    public static final String RECOVERY_SHARE = "iv_recovery_share";

    private SummaryFile() {}

    /**
     * The organism's accuracies over a set of tasks: 5-shot, instruction 0-shot, bare 0-shot, bare 0-shot with the IV.
     *
     * @param icl         5-shot greedy exact match; null where undefined
     * @param instruction instruction 0-shot exact match; null where undefined
     * @param zeroShot    bare 0-shot exact match; null where undefined
     * @param zeroShotIv  bare 0-shot with the task's IV; null where undefined
     */
    public record Accuracies(@SerializedName("icl_accuracy") Double icl, @SerializedName("instruction_accuracy") Double instruction,
            @SerializedName("zero_shot_accuracy") Double zeroShot, @SerializedName("zero_shot_iv_accuracy") Double zeroShotIv) {
        /**
         * The four accuracies, each null where not finite.
         *
         * @param icl         5-shot greedy exact match
         * @param instruction instruction 0-shot exact match
         * @param zeroShot    bare 0-shot exact match
         * @param zeroShotIv  bare 0-shot with the task's IV
         * @return the accuracies, NaN and infinities as null
         */
        public static Accuracies of(double icl, double instruction, double zeroShot, double zeroShotIv) {
            return new Accuracies(Spread.num(icl), Spread.num(instruction), Spread.num(zeroShot), Spread.num(zeroShotIv));
        }
    }

    /**
     * One task of the organism.
     *
     * @param task     its name
     * @param kind     string | lookup
     * @param pretrain whether the organism was pretrained on it (else it is a fine-tuning task)
     * @param ivLayer  the layer its IV was chosen at; null where it has none
     */
    public record TaskSummary(String task, String kind, boolean pretrain, @SerializedName("icl_accuracy") Double icl,
            @SerializedName("instruction_accuracy") Double instruction, @SerializedName("zero_shot_accuracy") Double zeroShot,
            @SerializedName("zero_shot_iv_accuracy") Double zeroShotIv, @SerializedName("iv_layer") Integer ivLayer) {}

    /**
     * The whole file; the accuracies over all pretrained tasks are flat members of it.
     *
     * @param byKind      the accuracies per task kind
     * @param tasks       every task of the organism
     * @param methods     per fine-tuning method, every metric's spread over the seeds
     * @param settings    the demo's settings as written
     * @param definitions what every metric means
     */
    public record Summary(String format, @SerializedName("schema_version") int schemaVersion,
            @SerializedName("icl_accuracy") Double icl, @SerializedName("instruction_accuracy") Double instruction,
            @SerializedName("zero_shot_accuracy") Double zeroShot, @SerializedName("zero_shot_iv_accuracy") Double zeroShotIv,
            @SerializedName("by_kind") Map<String, Accuracies> byKind, List<TaskSummary> tasks,
            Map<String, Map<String, Spread>> methods, JsonObject settings, Map<String, String> definitions) {
        /**
         * A summary of the current format and version.
         *
         * @param all         the accuracies over every pretrained task
         * @param byKind      the accuracies per task kind
         * @param tasks       every task of the organism
         * @param methods     per fine-tuning method, every metric's spread over the seeds
         * @param settings    the demo's settings as written
         * @param definitions what every metric means
         * @return the summary, {@link #FORMAT} and {@link #SCHEMA_VERSION} filled in
         */
        public static Summary of(Accuracies all, Map<String, Accuracies> byKind, List<TaskSummary> tasks,
                Map<String, Map<String, Spread>> methods, JsonObject settings, Map<String, String> definitions) {
            return new Summary(FORMAT, SCHEMA_VERSION, all.icl(), all.instruction(), all.zeroShot(), all.zeroShotIv(), byKind, tasks,
                    methods, settings, definitions);
        }

        /**
         * The accuracies over every pretrained task.
         *
         * @return the file's flat accuracy members as one record
         */
        public Accuracies all() {
            return new Accuracies(icl, instruction, zeroShot, zeroShotIv);
        }
    }

    /**
     * The file's text.
     *
     * @param s the summary
     * @return the schema above, pretty-printed, nulls written, a final newline
     */
    public static String toJson(Summary s) {
        return ResultsFile.JSON.toJson(s) + "\n";
    }

    /**
     * Writes {@code s} to {@code f} atomically.
     *
     * @param f the file to write
     * @param s the summary
     */
    public static void write(Path f, Summary s) {
        AtomicFiles.writeString(f, toJson(s));
    }

    /**
     * Reads {@code f}.
     *
     * @param f the file to read
     * @return the parsed summary
     * @throws IvkitException naming the file (and the field) where it is not a summary file of a known version, is
     *                        malformed or lacks a required member
     */
    public static Summary read(Path f) {
        return parse(StudyFiles.readString(f), f.toString());
    }

    /**
     * Parses a summary file's text; see {@link #read}.
     *
     * @param text  the file's text
     * @param where names the file in errors
     * @return the parsed summary
     * @throws IvkitException naming {@code where} (and the field) where the text is not a summary file of a known
     *                        version, is malformed or lacks a required member
     */
    public static Summary parse(String text, String where) {
        Summary s;
        try {
            JsonElement el = JsonParser.parseString(text);
            if (!el.isJsonObject()) {
                throw new IvkitException(where + ": not a summary file (expected a JSON object)");
            }
            JsonObject o = el.getAsJsonObject();
            String format = o.has("format") && o.get("format").isJsonPrimitive() ? o.get("format").getAsString() : null;
            if (!FORMAT.equals(format)) {
                throw new IvkitException(where + ": not a summary file (format " + format + ", expected " + FORMAT + ")");
            }
            JsonElement v = o.get("schema_version");
            int version = v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber() ? v.getAsInt() : -1;
            if (version < 1 || version > SCHEMA_VERSION) {
                throw new IvkitException(where + ": summary schema_version " + v + " is not one this ivkit reads (1.."
                        + SCHEMA_VERSION + ")");
            }
            s = ResultsFile.JSON.fromJson(o, Summary.class);
        } catch (JsonParseException | IllegalStateException | NumberFormatException | UnsupportedOperationException e) {
            throw new IvkitException(where + ": malformed summary file: " + e.getMessage(), e);
        }
        require(where, "by_kind", s.byKind());
        require(where, "tasks", s.tasks());
        require(where, "methods", s.methods());
        require(where, "settings", s.settings());
        require(where, "definitions", s.definitions());
        for (int i = 0; i < s.tasks().size(); i++) {
            TaskSummary t = s.tasks().get(i);
            require(where, "tasks[" + i + "]", t);
            require(where, "tasks[" + i + "].task", t.task());
            require(where, "tasks[" + i + "].kind", t.kind());
        }
        for (Map.Entry<String, Map<String, Spread>> m : s.methods().entrySet()) {
            require(where, "methods." + m.getKey(), m.getValue());
            for (Map.Entry<String, Spread> e : m.getValue().entrySet()) {
                require(where, "methods." + m.getKey() + "." + e.getKey(), e.getValue());
            }
            Spread share = m.getValue().get(RECOVERY_SHARE);
            if (share != null && share.mean() != null && !RecoveryScore.inRange(share.mean())) {
                throw new IvkitException(where + ": summary field methods." + m.getKey() + "." + RECOVERY_SHARE + ".mean "
                        + share.mean() + " is outside [" + RecoveryScore.SHARE_MIN + ", " + RecoveryScore.SHARE_MAX + "]");
            }
        }
        return s;
    }

    private static void require(String where, String field, Object value) {
        if (value == null) {
            throw new IvkitException(where + ": summary field " + field + " is missing");
        }
    }
}
