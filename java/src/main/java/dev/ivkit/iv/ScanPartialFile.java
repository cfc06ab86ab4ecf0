package dev.ivkit.iv;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.annotations.SerializedName;
import dev.ivkit.util.AtomicFiles;
import dev.ivkit.util.Sha256;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one reader and writer of {@code scan.partial.json}, the checkpoint of an unfinished resumable scan
 * ({@link dev.ivkit.pipeline.ResumableScan}), rewritten after every scored prompt and removed when {@code scan.json}
 * is written.
 *
 * <p>Schema ({@value #FORMAT}, version {@value #SCHEMA_VERSION}):
 * <pre>
 * {"format": "ivkit-scan-partial", "schema_version": 1, "args_fingerprint": fingerprint of "args",
 *  "args": {setting: string or integer}, "done": [the scored prompts, as scan.json's "per_prompt"]}
 * </pre>
 * Files without {@code format} and {@code schema_version} (written before they existed) are read as version 1.
 *
 * @param format          always {@value #FORMAT}
 * @param schemaVersion   the schema version the file was written with
 * @param argsFingerprint fingerprint of {@code args}
 * @param args            the settings, task, tokenizer and model identity the scan was started with (strings and
 *                        integers, in order)
 * @param done            the prompts scored so far, in order
 */
public record ScanPartialFile(String format, @SerializedName("schema_version") int schemaVersion,
        @SerializedName("args_fingerprint") String argsFingerprint, Map<String, Object> args,
        List<ScanFile.PromptScore> done) {
    /** The {@code format} member. */
    public static final String FORMAT = "ivkit-scan-partial";
    /** The schema version written (and the highest read). */
    public static final int SCHEMA_VERSION = 1;

    /**
     * A checkpoint of the current format and version.
     *
     * @param argsFingerprint fingerprint of {@code args}
     * @param args            the scan's identity
     * @param done            the prompts scored so far
     * @return the checkpoint
     */
    public static ScanPartialFile of(String argsFingerprint, Map<String, Object> args, List<ScanFile.PromptScore> done) {
        return new ScanPartialFile(FORMAT, SCHEMA_VERSION, argsFingerprint, args, done);
    }

    /**
     * The fingerprint of a scan's {@code args}: the first 16 hex digits of the SHA-256 of their pretty JSON (as
     * {@code ivkit scan} has always computed it, so folders of earlier versions resume).
     *
     * @param args settings, in order
     * @return 16 hex digits
     */
    public static String fingerprint(Map<String, Object> args) {
        return Sha256.of(ScanJson.GSON.toJson(args) + "\n").substring(0, 16);
    }

    /**
     * Writes the checkpoint to {@code file} atomically.
     *
     * @param file usually {@code DIR/scan.partial.json}
     */
    public void write(Path file) {
        AtomicFiles.writeString(file, ScanJson.GSON.toJson(this) + "\n");
    }

    /**
     * Reads a checkpoint; every member is required ({@code format} and {@code schema_version} excepted, see above).
     *
     * @param file a {@code scan.partial.json}
     * @return its content ({@code args} values as String or Long)
     * @throws dev.ivkit.ModelFormatException naming the file and the member, when it is missing, unreadable or wrong
     */
    public static ScanPartialFile read(Path file) {
        ScanJson j = new ScanJson(file);
        JsonObject o = j.readObject();
        int version = j.version(o, FORMAT, false, SCHEMA_VERSION);
        String fp = j.str(o, "args_fingerprint", "", true);
        Map<String, Object> args = args(j, j.object(o.get("args"), "args"), "args");
        List<ScanFile.PromptScore> done = ScanFile.PromptScore.readAll(j, j.array(o, "done", "", true), "done");
        return new ScanPartialFile(FORMAT, version, fp, args, done);
    }

    /**
     * A scan's args written as JSON elsewhere (the metadata of its {@code mean_z.safetensors}).
     *
     * @param file  the file they were read from (named in errors)
     * @param field where in it (named in errors)
     * @param json  the args as a JSON object of strings and integers
     * @return the args, in order (values String or Long)
     * @throws dev.ivkit.ModelFormatException naming the file and field when they are not such an object
     */
    public static Map<String, Object> parseArgs(Path file, String field, String json) {
        ScanJson j = new ScanJson(file);
        JsonElement e;
        try {
            e = com.google.gson.JsonParser.parseString(json);
        } catch (RuntimeException ex) {
            throw j.error(field, "not JSON: " + ex.getMessage());
        }
        return args(j, j.object(e, field), field);
    }

    private static Map<String, Object> args(ScanJson j, JsonObject a, String at) {
        Map<String, Object> args = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : a.entrySet()) {
            JsonElement v = e.getValue();
            boolean isString = v.isJsonPrimitive() && v.getAsJsonPrimitive().isString();
            args.put(e.getKey(), isString ? v.getAsString() : j.integer(a, e.getKey(), at, true));
        }
        return args;
    }

    /**
     * @param args a scan's args
     * @return them as the JSON object {@link #parseArgs} reads
     */
    public static String argsJson(Map<String, Object> args) {
        return ScanJson.GSON.toJson(args);
    }
}
