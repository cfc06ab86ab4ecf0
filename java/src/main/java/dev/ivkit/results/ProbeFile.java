package dev.ivkit.results;

import com.google.gson.JsonObject;
import java.nio.file.Path;

/**
 * The one reader and writer of {@code probe.json}: knowledge vs instruction following. Written by
 * {@code ivkit probe --out} and {@code IvkitModel.probe} ({@code pipeline.Probing}); read by
 * {@code ivkit report}.
 *
 * <p>Schema ({@value #FORMAT}, version {@value #SCHEMA_VERSION}; a file without {@code schema_version}, as written
 * before versions existed, reads as version 1):
 * <pre>
 * {"format": "ivkit-probe", "schema_version": 1,
 *  "ivkit_version", "model", "model_fingerprint",       ({@link Provenance}: all or none)
 *  "task": name, "task_file", "prompt_format", "seed",  ({@link Provenance})
 *  "context": "instruction" or "N-shot demonstrations", "shots", "examples",
 *  "bare": mean P(y | x), "instructed": mean P(y | c, x)}
 * </pre>
 * Unknown members are ignored; a missing or mistyped known member is an {@link OutputFormatException} naming the file
 * and the member.
 */
public final class ProbeFile {
    /** The {@code format} member. */
    public static final String FORMAT = "ivkit-probe";
    /** The schema version written. */
    public static final int SCHEMA_VERSION = 1;
    /** The file name the CLI writes. */
    public static final String NAME = "probe.json";

    private ProbeFile() {}

    /**
     * The whole file.
     *
     * @param schemaVersion the version read (written: {@link #SCHEMA_VERSION})
     * @param provenance    model, task file and seed; null when the writer had none (left out)
     * @param task          the task's name
     * @param context       what the instructed prompt adds: {@code "instruction"} or {@code "N-shot demonstrations"}
     * @param shots         demonstrations asked for (0 with an instruction)
     * @param examples      held-out examples probed (those that fit the context)
     * @param bare          mean P(y | x), per-token geometric mean, with the zero-shot prompt of the input alone
     * @param instructed    mean P(y | c, x) with the instruction or demonstrations c
     */
    public record Probe(int schemaVersion, Provenance provenance, String task, String context, int shots, int examples,
            double bare, double instructed) {
        /**
         * A probe of the current schema version.
         *
         * @param provenance model, task file and seed; may be null
         * @param task       the task's name
         * @param context    {@code "instruction"} or {@code "N-shot demonstrations"}
         * @param shots      demonstrations asked for
         * @param examples   examples probed
         * @param bare       mean P(y | x)
         * @param instructed mean P(y | c, x)
         * @return the record
         */
        public static Probe of(Provenance provenance, String task, String context, int shots, int examples, double bare,
                double instructed) {
            return new Probe(SCHEMA_VERSION, provenance, task, context, shots, examples, bare, instructed);
        }
    }

    /**
     * The file's text: the schema above (the current version; provenance left out when null), a final newline.
     *
     * @param p the probe
     * @return the JSON text
     */
    public static String toJson(Probe p) {
        return JsonMembers.JSON.toJson(tree(p)) + "\n";
    }

    /**
     * Writes {@code p} to {@code file} atomically.
     *
     * @param file the target, usually {@code DIR/probe.json}
     * @param p    the probe
     */
    public static void write(Path file, Probe p) {
        JsonMembers.write(file, tree(p));
    }

    private static JsonObject tree(Probe p) {
        Provenance v = p.provenance();
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("schema_version", SCHEMA_VERSION);
        if (v != null) {
            o.addProperty("ivkit_version", v.ivkitVersion());
            o.addProperty("model", v.model());
            o.addProperty("model_fingerprint", v.modelFingerprint());
        }
        o.addProperty("task", p.task());
        if (v != null) {
            o.addProperty("task_file", v.taskFile());
            o.addProperty("prompt_format", v.promptFormat());
            o.addProperty("seed", v.seed());
        }
        o.addProperty("context", p.context());
        o.addProperty("shots", p.shots());
        o.addProperty("examples", p.examples());
        o.addProperty("bare", p.bare());
        o.addProperty("instructed", p.instructed());
        return o;
    }

    /**
     * Reads {@code file}.
     *
     * @param file a {@code probe.json}
     * @return its content
     * @throws OutputFormatException naming the file (and member) where it cannot be read, is not a probe file of a
     *                               version this ivkit reads, or a member is missing or mistyped
     */
    public static Probe read(Path file) {
        return parse(JsonMembers.readText(file), file);
    }

    /**
     * Parses a {@code probe.json}'s text.
     *
     * @param text the JSON text
     * @param file the file it came from, named in errors
     * @return its content
     * @throws OutputFormatException as {@link #read}
     */
    public static Probe parse(String text, Path file) {
        JsonMembers o = JsonMembers.root(text, file, FORMAT, SCHEMA_VERSION);
        return new Probe(o.version(), Provenance.read(o), o.string("task", true), o.string("context", true),
                o.integer("shots", true), o.integer("examples", true), o.number("bare"), o.number("instructed"));
    }
}
