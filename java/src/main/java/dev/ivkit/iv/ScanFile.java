package dev.ivkit.iv;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.annotations.SerializedName;
import dev.ivkit.util.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one reader and writer of {@code scan.json}: the result of a head scan, written by {@code ivkit scan} and the
 * facade's resumable extraction ({@link dev.ivkit.pipeline.ResumableScan}) and, with only its summary, by
 * {@code ivkit demo}; read by {@code ivkit extract} and {@code ivkit report}.
 *
 * <p>Schema ({@value #FORMAT}, version {@value #SCHEMA_VERSION}), members in this order, absent ones left out:
 * <pre>
 * {"format": "ivkit-scan", "schema_version": 1, "ivkit_version", "method": exact|naive|atp, "mode": replace|add,
 *  "layers", "heads", "prompts" (scanned), "mean_prompts" (averaged for mean z), "skipped_long_prompts",
 *  "skipped_long_mean_prompts", "task", "task_file", "shots", "scan_shots", "corrupt": shuffled|none,
 *  "prompt_format", "seed", "model", "model_fingerprint", "dtype", "args_fingerprint",
 *  "cie": [layer][head] mean Δprob, "nll_delta": [layer][head] mean ΔNLL,
 *  "clean_accuracy", "corrupted_accuracy" (greedy first answer token, unpatched, on the mean-activation prompts and on
 *  the scanned prompts), "cie_ci_low", "cie_ci_high": [layer][head] 95 % bootstrap interval of the mean Δprob,
 *  "per_prompt": [{"index", "query", "target", "prompt_tokens", "clean_prob", "clean_nll", "cie", "nll_delta"}]}
 * </pre>
 * Files written before {@code schema_version} existed are read as version 1 (the same members); files are written
 * with it. Only {@code format} and {@code cie} are required by {@link #read}; the other members are null when absent.
 * Every error names the file and the member ({@code per_prompt[1].clean_prob}). Arrays are held as given: do not
 * modify them.
 *
 * @param format                 always {@value #FORMAT}
 * @param schemaVersion          the schema version the file was written with
 * @param ivkitVersion           the ivkit that wrote it
 * @param method                 scan method (lower-case {@link ScanMethod})
 * @param mode                   patch mode (lower-case {@link dev.ivkit.PatchMode})
 * @param layers                 the model's layers
 * @param heads                  the model's heads per layer
 * @param prompts                prompts scanned (those that fit the context)
 * @param meanPrompts            prompts averaged for the mean activations (those that fit)
 * @param skippedLongPrompts     scanned prompts left out as longer than the context
 * @param skippedLongMeanPrompts mean-activation prompts left out as longer than the context
 * @param task                   the task's name
 * @param taskFile               the task file or folder as given
 * @param shots                  demonstrations per mean-activation prompt
 * @param scanShots              demonstrations per scanned prompt
 * @param corrupt                {@code shuffled} (scanned prompts' demo labels permuted), {@code none}, or
 *                               {@code zero-shot} (the demo's validity scans: the bare query)
 * @param promptFormat           prompt format name (qa, none, io, question)
 * @param seed                   seed of the split and the prompt sampling
 * @param model                  the model file or folder as given
 * @param modelFingerprint       {@link dev.ivkit.model.ModelFingerprint} of the model
 * @param dtype                  compute dtype
 * @param argsFingerprint        fingerprint of the settings, task, tokenizer and model (resuming checks it)
 * @param cie                    [layer][head] mean change of the answer's first-token probability
 * @param nllDelta               [layer][head] mean change of the answer's NLL
 * @param cleanAccuracy          greedy first-token accuracy on the mean-activation (clean) prompts
 * @param corruptedAccuracy      greedy first-token accuracy on the scanned (corrupted) prompts, unpatched
 * @param cieCiLow               [layer][head] 2.5th percentile of the bootstrapped mean CIE ({@link ScanValidity})
 * @param cieCiHigh              [layer][head] 97.5th percentile of the bootstrapped mean CIE
 * @param perPrompt              every scanned prompt's scores, in order
 */
public record ScanFile(String format, @SerializedName("schema_version") int schemaVersion,
        @SerializedName("ivkit_version") String ivkitVersion, String method, String mode, Integer layers, Integer heads,
        Integer prompts, @SerializedName("mean_prompts") Integer meanPrompts,
        @SerializedName("skipped_long_prompts") Integer skippedLongPrompts,
        @SerializedName("skipped_long_mean_prompts") Integer skippedLongMeanPrompts, String task,
        @SerializedName("task_file") String taskFile, Integer shots, @SerializedName("scan_shots") Integer scanShots,
        String corrupt, @SerializedName("prompt_format") String promptFormat, Long seed, String model,
        @SerializedName("model_fingerprint") String modelFingerprint, String dtype,
        @SerializedName("args_fingerprint") String argsFingerprint, double[][] cie,
        @SerializedName("nll_delta") double[][] nllDelta, @SerializedName("clean_accuracy") Double cleanAccuracy,
        @SerializedName("corrupted_accuracy") Double corruptedAccuracy, @SerializedName("cie_ci_low") double[][] cieCiLow,
        @SerializedName("cie_ci_high") double[][] cieCiHigh, @SerializedName("per_prompt") List<PromptScore> perPrompt) {
    /** The {@code format} member. */
    public static final String FORMAT = "ivkit-scan";
    /** The schema version written (and the highest read). */
    public static final int SCHEMA_VERSION = 1;

    /**
     * One scanned prompt's scores.
     *
     * @param index        its position in the scan
     * @param query        the query's input text
     * @param target       the expected answer
     * @param promptTokens tokens of the prompt
     * @param cleanProb    unpatched probability of the answer's first token
     * @param cleanNll     unpatched NLL of the answer
     * @param cie          [layer][head] change of the first-token probability when the head is patched
     * @param nllDelta     [layer][head] change of the answer's NLL when the head is patched
     */
    public record PromptScore(int index, String query, String target, @SerializedName("prompt_tokens") int promptTokens,
            @SerializedName("clean_prob") double cleanProb, @SerializedName("clean_nll") double cleanNll, double[][] cie,
            @SerializedName("nll_delta") double[][] nllDelta) {
        static PromptScore read(ScanJson j, JsonObject o, String at) {
            return new PromptScore(j.int32(o, "index", at, true), j.str(o, "query", at, true), j.str(o, "target", at, true),
                    j.int32(o, "prompt_tokens", at, true), j.num(o, "clean_prob", at, true), j.num(o, "clean_nll", at, true),
                    j.matrix(o, "cie", at, true, true), j.matrix(o, "nll_delta", at, true, true));
        }

        /** The entries of {@code a} (member {@code key} of a file), each checked to hold its own position. */
        static List<PromptScore> readAll(ScanJson j, JsonArray a, String key) {
            List<PromptScore> out = new ArrayList<>(a.size());
            for (int i = 0; i < a.size(); i++) {
                String at = key + "[" + i + "]";
                PromptScore p = read(j, j.object(a.get(i), at), at);
                if (p.index() != i) {
                    throw j.error(at + ".index", "is " + p.index() + ", expected " + i);
                }
                out.add(p);
            }
            return out;
        }
    }

    /**
     * The summary a scan shown without its provenance has (what {@code ivkit demo} writes): the current format and
     * version, the task, method, mode, prompt counts and the CIE map; layers and heads are its shape.
     *
     * @param task        the task's name
     * @param method      scan method name
     * @param mode        patch mode name
     * @param prompts     prompts scanned
     * @param meanPrompts prompts averaged for the mean activations
     * @param cie         [layer][head] mean CIE (at least one row)
     * @return the summary; write it with {@link #write}
     */
    public static ScanFile summary(String task, String method, String mode, int prompts, int meanPrompts, double[][] cie) {
        return new ScanFile(FORMAT, SCHEMA_VERSION, null, method, mode, cie.length, cie[0].length, prompts, meanPrompts,
                null, null, task, null, null, null, null, null, null, null, null, null, null, cie, null, null, null, null, null,
                null);
    }

    /**
     * A scan summary with its validity measures (what {@code ivkit demo} writes per organism task and design).
     *
     * @param task              the task's name
     * @param method            scan method name
     * @param mode              patch mode name
     * @param corrupt           the corrupted-prompt design ({@code shuffled}, {@code zero-shot})
     * @param scanShots         demonstrations per corrupted prompt
     * @param prompts           corrupted prompts scanned
     * @param meanPrompts       clean prompts averaged for the mean activations
     * @param cie               [layer][head] mean CIE
     * @param nllDelta          [layer][head] mean change of the answer's NLL
     * @param cleanAccuracy     greedy first-token accuracy on the clean prompts
     * @param corruptedAccuracy the same on the corrupted prompts, unpatched
     * @param ciLow             [layer][head] 2.5th percentile of the bootstrapped mean CIE
     * @param ciHigh            [layer][head] 97.5th percentile
     * @return the summary; write it with {@link #write}
     */
    public static ScanFile validity(String task, String method, String mode, String corrupt, int scanShots, int prompts,
            int meanPrompts, double[][] cie, double[][] nllDelta, double cleanAccuracy, double corruptedAccuracy, double[][] ciLow,
            double[][] ciHigh) {
        return new ScanFile(FORMAT, SCHEMA_VERSION, null, method, mode, cie.length, cie[0].length, prompts, meanPrompts,
                null, null, task, null, null, scanShots, corrupt, null, null, null, null, null, null, cie, nllDelta, cleanAccuracy,
                corruptedAccuracy, ciLow, ciHigh, null);
    }

    /** @return the file's text: pretty-printed JSON in the schema's member order, absent members left out */
    public String toJson() {
        return ScanJson.GSON.toJson(this) + "\n";
    }

    /**
     * Writes the scan to {@code file} atomically (a temp file, then a rename).
     *
     * @param file usually {@code DIR/scan.json}
     */
    public void write(Path file) {
        AtomicFiles.writeString(file, toJson());
    }

    /**
     * Reads a scan: {@code format} must be {@value #FORMAT} and {@code cie} a non-empty matrix (of
     * {@code layers × heads} when those are given); every member that is present must have its type.
     *
     * @param file a {@code scan.json}
     * @return its content
     * @throws dev.ivkit.ModelFormatException naming the file and the member, when it is missing, unreadable or wrong
     */
    public static ScanFile read(Path file) {
        return parse(new ScanJson(file), true);
    }

    /**
     * Reads what a scan has for a reader that shows what is there ({@code ivkit report}): every member optional
     * (a file without {@code format} is read too; one with another format is not), rows of {@code cie} may differ in
     * length, and {@code per_prompt} is not read (null).
     *
     * @param file a {@code scan.json}
     * @return its summary members
     * @throws dev.ivkit.ModelFormatException naming the file and the member, for a member of the wrong shape
     */
    public static ScanFile readSummary(Path file) {
        return parse(new ScanJson(file), false);
    }

    private static ScanFile parse(ScanJson j, boolean full) {
        JsonObject o = j.readObject();
        int version = j.version(o, FORMAT, full, SCHEMA_VERSION);
        Integer layers = j.int32(o, "layers", "", false), heads = j.int32(o, "heads", "", false);
        double[][] cie = j.matrix(o, "cie", "", full, full);
        double[][] nll = j.matrix(o, "nll_delta", "", false, full);
        double[][] ciLow = j.matrix(o, "cie_ci_low", "", false, full), ciHigh = j.matrix(o, "cie_ci_high", "", false, full);
        List<PromptScore> per = null;
        if (full) {
            checkShape(j, "cie", cie, layers, heads);
            checkShape(j, "nll_delta", nll, cie.length, cie[0].length);
            checkShape(j, "cie_ci_low", ciLow, cie.length, cie[0].length);
            checkShape(j, "cie_ci_high", ciHigh, cie.length, cie[0].length);
            JsonArray a = j.array(o, "per_prompt", "", false);
            per = a == null ? null : PromptScore.readAll(j, a, "per_prompt");
            for (int i = 0; per != null && i < per.size(); i++) {
                checkShape(j, "per_prompt[" + i + "].cie", per.get(i).cie(), cie.length, cie[0].length);
                checkShape(j, "per_prompt[" + i + "].nll_delta", per.get(i).nllDelta(), cie.length, cie[0].length);
            }
        }
        return new ScanFile(FORMAT, version, j.str(o, "ivkit_version", "", false), j.str(o, "method", "", false),
                j.str(o, "mode", "", false), layers, heads, j.int32(o, "prompts", "", false),
                j.int32(o, "mean_prompts", "", false), j.int32(o, "skipped_long_prompts", "", false),
                j.int32(o, "skipped_long_mean_prompts", "", false), j.str(o, "task", "", false),
                j.str(o, "task_file", "", false), j.int32(o, "shots", "", false), j.int32(o, "scan_shots", "", false),
                j.str(o, "corrupt", "", false), j.str(o, "prompt_format", "", false), j.integer(o, "seed", "", false),
                j.str(o, "model", "", false), j.str(o, "model_fingerprint", "", false), j.str(o, "dtype", "", false),
                j.str(o, "args_fingerprint", "", false), cie, nll, j.num(o, "clean_accuracy", "", false),
                j.num(o, "corrupted_accuracy", "", false), ciLow, ciHigh, per);
    }

    private static void checkShape(ScanJson j, String field, double[][] m, Integer rows, Integer cols) {
        if (m == null) {
            return;
        }
        if (rows != null && m.length != rows || cols != null && m[0].length != cols) {
            throw j.error(field, "is " + m.length + " × " + m[0].length + ", expected " + (rows == null ? "?" : rows)
                    + " × " + (cols == null ? "?" : cols) + " (layers × heads)");
        }
    }

    /**
     * The scan's scores as {@link ScanScores} (every prompt's maps and unpatched probability and NLL), the form the
     * head ranking takes; the same numbers, bit for bit, as the scan that wrote the file computed.
     *
     * @return the per-prompt scores
     * @throws IllegalStateException when the scan has no {@code per_prompt} (a summary)
     */
    public ScanScores scores() {
        if (perPrompt == null) {
            throw new IllegalStateException("this scan has no per-prompt scores (read as a summary)");
        }
        return scores(perPrompt);
    }

    /**
     * @param prompts scored prompts, in order
     * @return their scores as {@link ScanScores} (the arrays are shared, not copied)
     */
    public static ScanScores scores(List<PromptScore> prompts) {
        int n = prompts.size();
        double[][][] dp = new double[n][][], dn = new double[n][][];
        double[] cp = new double[n], cn = new double[n];
        for (int i = 0; i < n; i++) {
            PromptScore p = prompts.get(i);
            dp[i] = p.cie();
            dn[i] = p.nllDelta();
            cp[i] = p.cleanProb();
            cn[i] = p.cleanNll();
        }
        return new ScanScores(dp, dn, cp, cn);
    }
}
