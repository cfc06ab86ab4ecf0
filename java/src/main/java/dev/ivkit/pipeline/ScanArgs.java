package dev.ivkit.pipeline;

import dev.ivkit.iv.ScanPartialFile;
import dev.ivkit.util.Sha256;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The identity of a resumable scan: its {@code args} (settings, task and tokenizer bytes, model fingerprint, in the
 * order {@code ivkit scan} has always recorded them, so that folders scanned by earlier versions resume) and the
 * first setting that differs between two of them.
 */
final class ScanArgs {
    private ScanArgs() {}

    /** The args of a scan with these settings of this source on a model with this fingerprint. */
    static Map<String, Object> of(ResumableScan.Settings s, ResumableScan.Source src, String modelFingerprint) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("method", lower(s.method()));
        args.put("mode", lower(s.mode()));
        args.put("format", s.promptFormat());
        args.put("corrupt", s.corrupt());
        args.put("shots", s.shots());
        args.put("scan_shots", s.scanShots());
        args.put("prompts_requested", s.prompts());
        args.put("mean_prompts_requested", s.meanPrompts());
        args.put("seed", s.seed());
        args.put("dtype", src.dtype());
        args.put("task", src.data().name());
        args.put("task_sha256", Sha256.of(src.data().source() == null ? src.taskPath() : src.data().source()));
        args.put("tokenizer_sha256", Sha256.of(src.tokenizerPath()));
        args.put("model_fingerprint", modelFingerprint);
        return args;
    }

    static String fingerprint(Map<String, Object> args) {
        return ScanPartialFile.fingerprint(args);
    }

    /**
     * The refusal of a folder whose {@code file} records {@code was} (null when unknown): names the first setting of
     * {@code now} that {@code was} has with another value.
     */
    static ScanMismatchException mismatch(Path file, Map<String, Object> was, Map<String, Object> now) {
        if (was != null) {
            for (Map.Entry<String, Object> e : now.entrySet()) {
                Object old = was.get(e.getKey());
                if (!Objects.equals(String.valueOf(old), String.valueOf(e.getValue()))) {
                    return new ScanMismatchException(file, e.getKey(), old, e.getValue());
                }
            }
        }
        return new ScanMismatchException(file, "args_fingerprint", null, fingerprint(now));
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
