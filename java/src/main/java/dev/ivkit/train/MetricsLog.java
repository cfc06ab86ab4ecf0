package dev.ivkit.train;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.ivkit.IvkitException;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The one reader and writer of a training run's {@code metrics.jsonl}, written by {@link Trainer} and read by the
 * facade's progress events and the report's training curves.
 *
 * <p>Schema version {@value #SCHEMA_VERSION}: one JSON object per line, in step order, no timings (an interrupted and
 * resumed run writes the same file as an uninterrupted one):
 * <pre>
 * training step:   {"step", "epoch", "loss", "ce", "kl", "kl1", "kl2", "pr", "lr", "schema_version": 1}
 * held-out loss:   {"step", "eval_loss", "schema_version": 1}
 * </pre>
 * The version is a member of every line rather than a header line, so that line N is still the N-th record (the
 * checkpoints count lines, and readers that take one object per line keep working). Lines without
 * {@code schema_version} (files written before it was recorded) read as version 1; a newer version is refused.
 * Members this version does not know are ignored. Blank lines are skipped.
 */
public final class MetricsLog {
    /** The file's name inside a training output folder. */
    public static final String FILE_NAME = "metrics.jsonl";
    /** The schema version written on every line and the newest one read. */
    public static final int SCHEMA_VERSION = 1;

    private final Path file;

    /**
     * One line of the file: a training step (with {@code loss}) or a held-out evaluation (with {@code evalLoss}).
     * Members absent from the line are null.
     *
     * @param step     optimizer steps done
     * @param epoch    epoch of the step (training lines)
     * @param loss     total loss (training lines)
     * @param ce       cross-entropy part of the loss
     * @param kl       kl1 + kl2
     * @param kl1      KL at the answer-predicting position
     * @param kl2      KL over the real positions
     * @param pr       head-preservation term
     * @param lr       learning rate of the step
     * @param evalLoss held-out loss (evaluation lines)
     */
    public record Line(int step, Integer epoch, Double loss, Double ce, Double kl, Double kl1, Double kl2, Double pr,
            Double lr, Double evalLoss) {
        /**
         * A training step's line; {@code kl} is {@code kl1 + kl2}.
         *
         * @param step  optimizer steps done
         * @param epoch epoch of the step
         * @param loss  total loss
         * @param ce    cross-entropy part
         * @param kl1   KL at the answer-predicting position
         * @param kl2   KL over the real positions
         * @param pr    head-preservation term
         * @param lr    learning rate of the step
         * @return the line
         */
        public static Line training(int step, int epoch, double loss, double ce, double kl1, double kl2, double pr,
                double lr) {
            return new Line(step, epoch, loss, ce, kl1 + kl2, kl1, kl2, pr, lr, null);
        }

        /**
         * A held-out evaluation's line.
         *
         * @param step     optimizer steps done
         * @param evalLoss held-out loss
         * @return the line
         */
        public static Line evaluation(int step, double evalLoss) {
            return new Line(step, null, null, null, null, null, null, null, null, evalLoss);
        }

        /** @return whether this is a training step's line (it has a loss) */
        public boolean isTraining() {
            return loss != null;
        }
    }

    /** @param file the metrics file (need not exist yet) */
    public MetricsLog(Path file) {
        this.file = file;
    }

    /**
     * @param outDir a training output folder
     * @return the log of {@code outDir/metrics.jsonl}
     */
    public static MetricsLog in(Path outDir) {
        return new MetricsLog(outDir.resolve(FILE_NAME));
    }

    /** @return the metrics file */
    public Path file() {
        return file;
    }

    /** Starts an empty file (a fresh run), replacing any earlier one. */
    public void reset() {
        try {
            Files.write(file, new byte[0]);
        } catch (IOException e) {
            throw new IvkitException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Keeps the first {@code keep} lines and drops the rest (resuming a checkpoint: a killed run may have logged more
     * steps, or half a line, after it). The lines kept are not parsed. Replaces the file atomically.
     *
     * @param keep lines to keep (more than the file has keeps them all)
     */
    public void truncate(int keep) {
        List<String> lines;
        try {
            lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            throw new IvkitException("cannot read " + file + ": " + e.getMessage(), e);
        }
        StringBuilder sb = new StringBuilder();
        for (String l : lines.subList(0, Math.min(keep, lines.size()))) {
            sb.append(l).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /**
     * Appends one line; the file is closed (so flushed) before this returns.
     *
     * @param line the record
     */
    public void append(Line line) {
        try {
            Files.writeString(file, format(line) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IvkitException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * @return every line of the file, in order
     * @throws MetricsFormatException naming the file and line when the file cannot be read or a line is malformed
     */
    public List<Line> readAll() {
        String[] lines = text().split("\n", -1);
        List<Line> out = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                out.add(parse(lines[i], file, i + 1));
            }
        }
        return out;
    }

    /**
     * @return the last line, or empty when the file has none
     * @throws MetricsFormatException naming the file and line when the last line is malformed
     */
    public Optional<Line> readLast() {
        return last(l -> true);
    }

    /**
     * @return the last training step's line (evaluation lines after it are passed over), or empty when there is none
     * @throws MetricsFormatException naming the file and line when a line read is malformed
     */
    public Optional<Line> readLastTraining() {
        return last(Line::isTraining);
    }

    /** Parses lines from the end until one matches; only the lines passed over are parsed. */
    private Optional<Line> last(Predicate<Line> wanted) {
        String[] lines = text().split("\n", -1);
        for (int i = lines.length - 1; i >= 0; i--) {
            if (!lines[i].isBlank()) {
                Line l = parse(lines[i], file, i + 1);
                if (wanted.test(l)) {
                    return Optional.of(l);
                }
            }
        }
        return Optional.empty();
    }

    private String text() {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new MetricsFormatException(file, 0, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * @param line a record
     * @return its JSON text (one line, no newline): the members that are set, in schema order, then
     *         {@code schema_version}
     */
    public static String format(Line line) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", line.step());
        putIfSet(m, "epoch", line.epoch());
        putIfSet(m, "loss", line.loss());
        putIfSet(m, "ce", line.ce());
        putIfSet(m, "kl", line.kl());
        putIfSet(m, "kl1", line.kl1());
        putIfSet(m, "kl2", line.kl2());
        putIfSet(m, "pr", line.pr());
        putIfSet(m, "lr", line.lr());
        putIfSet(m, "eval_loss", line.evalLoss());
        m.put("schema_version", SCHEMA_VERSION);
        return new Gson().toJson(m);
    }

    private static void putIfSet(Map<String, Object> m, String key, Object v) {
        if (v != null) {
            m.put(key, v);
        }
    }

    /**
     * Parses one line of a metrics file.
     *
     * @param text   the line
     * @param file   the file it is from (named in errors)
     * @param lineNo its 1-based line number (named in errors)
     * @return the record
     * @throws MetricsFormatException naming {@code file} and {@code lineNo} when the line is not a JSON object, has
     *                                no integer {@code step}, has a known member that is not a number, or has a
     *                                {@code schema_version} this ivkit does not read
     */
    public static Line parse(String text, Path file, int lineNo) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject()) {
                throw new MetricsFormatException(file, lineNo, "not a JSON object", null);
            }
            o = e.getAsJsonObject();
        } catch (RuntimeException e) {
            if (e instanceof MetricsFormatException m) {
                throw m;
            }
            throw new MetricsFormatException(file, lineNo, "not a JSON object: " + e.getMessage(), e);
        }
        Double version = number(o, "schema_version", file, lineNo);
        if (version != null && (version != Math.rint(version) || version < 1 || version > SCHEMA_VERSION)) {
            throw new MetricsFormatException(file, lineNo, "schema_version " + o.get("schema_version")
                    + " is not one this ivkit reads (1.." + SCHEMA_VERSION + ")", null);
        }
        Double step = number(o, "step", file, lineNo);
        if (step == null || step != Math.rint(step) || Math.abs(step) > Integer.MAX_VALUE) {
            throw new MetricsFormatException(file, lineNo, step == null ? "no \"step\"" : "\"step\" is not an integer: "
                    + o.get("step"), null);
        }
        Double epoch = number(o, "epoch", file, lineNo);
        return new Line(step.intValue(), epoch == null ? null : epoch.intValue(), number(o, "loss", file, lineNo),
                number(o, "ce", file, lineNo), number(o, "kl", file, lineNo), number(o, "kl1", file, lineNo),
                number(o, "kl2", file, lineNo), number(o, "pr", file, lineNo), number(o, "lr", file, lineNo),
                number(o, "eval_loss", file, lineNo));
    }

    /** A member as a number (NaN and infinities also as strings); null when absent or JSON null. */
    private static Double number(JsonObject o, String key, Path file, int lineNo) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.isJsonPrimitive()) {
            JsonPrimitive p = e.getAsJsonPrimitive();
            if (p.isNumber()) {
                return p.getAsDouble();
            }
            if (p.isString() && List.of("NaN", "Infinity", "-Infinity").contains(p.getAsString())) {
                return Double.parseDouble(p.getAsString());
            }
        }
        throw new MetricsFormatException(file, lineNo, "\"" + key + "\" is not a number: " + e, null);
    }
}
