package dev.ivkit.bench;

import dev.ivkit.bench.JmhResults.Metric;
import dev.ivkit.bench.JmhResults.Result;
import dev.ivkit.bench.Ratios.Named;
import dev.ivkit.bench.Ratios.Ratio;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Compares two JMH JSON runs: per benchmark and @Param combination, the change of the primary score's median and of
 * the paired ratios of the results table ({@link Ratios}). A change is flagged only when the two runs' own ranges
 * do not overlap by more than the margin: a regression when the new run's best iteration is worse than the old
 * run's worst by more than {@code margin} (relative), in the metric's direction (throughput and speedups: higher is
 * better; average time and time ratios: lower is better); an improvement likewise the other way.
 *
 * <p>Usage: {@code Compare [--margin 0.10] OLD.json NEW.json}. Exit status 0: no regression flagged, 1: at least one,
 * 2: bad input (a missing or unreadable file, named on one line on stderr).
 */
public final class Compare {
    static final double DEFAULT_MARGIN = 0.10;

    private Compare() {}

    /** How one figure moved: {@code REGRESSION}, {@code improved}, or within the noise (empty). */
    enum Verdict { NONE, IMPROVED, REGRESSION }

    /** One compared line; {@code key} names the benchmark, its params, and for ratios the ratio. */
    record Line(String key, String what, double oldValue, double oldLo, double oldHi, double newValue, double newLo,
                double newHi, boolean higherIsBetter, Verdict verdict) {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        double margin = DEFAULT_MARGIN;
        List<String> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--margin") && i + 1 < args.length) {
                try {
                    margin = Double.parseDouble(args[++i]);
                } catch (NumberFormatException e) {
                    margin = -1;
                }
                if (!(margin >= 0)) {
                    err.println("compare: --margin wants a fraction >= 0 (0.10 = 10%), got " + args[i]);
                    return 2;
                }
            } else {
                files.add(args[i]);
            }
        }
        if (files.size() != 2) {
            err.println("usage: compare [--margin FRACTION (default " + DEFAULT_MARGIN + ")] OLD.json NEW.json");
            return 2;
        }
        List<Result> old, now;
        try {
            old = load(files.get(0));
            now = load(files.get(1));
        } catch (BadInput e) {
            err.println("compare: " + e.getMessage());
            return 2;
        }
        List<Line> lines = compare(old, now, margin);
        print(out, files.get(0), files.get(1), margin, lines, unmatched(old, now), unmatched(now, old));
        return lines.stream().anyMatch(l -> l.verdict() == Verdict.REGRESSION) ? 1 : 0;
    }

    static final class BadInput extends Exception {
        BadInput(String message) {
            super(message);
        }
    }

    /** The results of one file, or BadInput naming it: missing, unreadable, not JMH JSON, or no results. */
    static List<Result> load(String file) throws BadInput {
        List<Result> r;
        try {
            r = JmhResults.read(Path.of(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new BadInput(file + ": no such file");
        } catch (java.io.IOException e) {
            throw new BadInput(file + ": cannot read (" + e + ")");
        } catch (IndexOutOfBoundsException e) {
            throw new BadInput(file + ": not a JMH JSON result file (unexpected end of the JSON text)");
        } catch (RuntimeException e) {
            throw new BadInput(file + ": not a JMH JSON result file (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        if (r.isEmpty()) {
            throw new BadInput(file + ": no benchmark results in it");
        }
        return r;
    }

    /** Benchmark, mode and params: what identifies one result across runs. */
    static String key(Result r) {
        String params = r.params().entrySet().stream()
                .filter(e -> !e.getKey().endsWith("Path"))  // file locations, not workload parameters
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
        return r.name() + " (" + r.mode() + ")" + (params.isEmpty() ? "" : " " + params);
    }

    private static String fullKey(Result r) {
        return r.name() + "|" + r.mode() + "|" + r.params();
    }

    static List<Line> compare(List<Result> old, List<Result> now, double margin) {
        Map<String, Result> oldByKey = new LinkedHashMap<>();
        old.forEach(r -> oldByKey.put(fullKey(r), r));
        Map<String, Named> oldRatios = new LinkedHashMap<>();
        Ratios.all(old).forEach(n -> oldRatios.put(fullKey(n.anchor()) + "|" + n.label(), n));
        Map<String, List<Named>> newRatios = new LinkedHashMap<>();
        Ratios.all(now).forEach(n -> newRatios.computeIfAbsent(fullKey(n.anchor()), k -> new ArrayList<>()).add(n));
        List<Line> lines = new ArrayList<>();
        for (Result n : now) {
            Result o = oldByKey.get(fullKey(n));
            if (o == null) {
                continue;
            }
            Metric a = o.primary(), b = n.primary();
            boolean higher = n.mode().equals("thrpt");
            lines.add(line(key(n), "score " + b.unit(), a.p50(), a.min(), a.max(), b.p50(), b.min(), b.max(), higher, margin));
            for (Named nr : newRatios.getOrDefault(fullKey(n), List.of())) {
                Named or = oldRatios.get(fullKey(n) + "|" + nr.label());
                if (or != null) {
                    Ratio x = or.ratio(), y = nr.ratio();
                    lines.add(line(key(n), nr.label() + (y.paired() ? " (paired)" : ""), x.value(), x.lo(), x.hi(),
                            y.value(), y.lo(), y.hi(), y.higherIsBetter(), margin));
                }
            }
        }
        return lines;
    }

    private static Line line(String key, String what, double ov, double olo, double ohi, double nv, double nlo, double nhi,
                             boolean higher, double margin) {
        return new Line(key, what, ov, olo, ohi, nv, nlo, nhi, higher, verdict(olo, ohi, nlo, nhi, higher, margin));
    }

    /**
     * REGRESSION when the new run's best is worse than the old run's worst by more than {@code margin}; IMPROVED when
     * the new run's worst beats the old run's best by more than {@code margin}; else NONE.
     */
    static Verdict verdict(double oldMin, double oldMax, double newMin, double newMax, boolean higherIsBetter, double margin) {
        if (higherIsBetter) {
            if (newMax < oldMin * (1 - margin)) {
                return Verdict.REGRESSION;
            }
            return newMin > oldMax * (1 + margin) ? Verdict.IMPROVED : Verdict.NONE;
        }
        if (newMin > oldMax * (1 + margin)) {
            return Verdict.REGRESSION;
        }
        return newMax < oldMin * (1 - margin) ? Verdict.IMPROVED : Verdict.NONE;
    }

    private static List<String> unmatched(List<Result> in, List<Result> other) {
        Map<String, Result> keys = new LinkedHashMap<>();
        other.forEach(r -> keys.put(fullKey(r), r));
        return in.stream().filter(r -> !keys.containsKey(fullKey(r))).map(Compare::key).toList();
    }

    private static void print(PrintStream out, String oldFile, String newFile, double margin, List<Line> lines,
                              List<String> onlyOld, List<String> onlyNew) {
        out.println("old: " + oldFile);
        out.println("new: " + newFile);
        out.println("figures: median [min–max] over measurement iterations; flagged when the ranges are apart by more than "
                + String.format(Locale.ROOT, "%.0f%%", margin * 100) + " in the metric's direction");
        String last = null;
        for (Line l : lines) {
            if (!l.key().equals(last)) {
                out.println();
                out.println(l.key());
                last = l.key();
            }
            double change = l.newValue() / l.oldValue() - 1;
            out.println(String.format(Locale.ROOT, "  %-44s %22s -> %-22s %+7.1f%% %s%s", l.what() + (l.higherIsBetter() ? " ↑" : " ↓"),
                    figure(l.oldValue(), l.oldLo(), l.oldHi()), figure(l.newValue(), l.newLo(), l.newHi()), change * 100,
                    l.verdict() == Verdict.REGRESSION ? "REGRESSION" : l.verdict() == Verdict.IMPROVED ? "improved" : "",
                    "").stripTrailing());
        }
        if (!onlyOld.isEmpty() || !onlyNew.isEmpty()) {
            out.println();
        }
        onlyOld.forEach(k -> out.println("only in old: " + k));
        onlyNew.forEach(k -> out.println("only in new: " + k));
        List<Line> reg = lines.stream().filter(l -> l.verdict() == Verdict.REGRESSION).toList();
        long imp = lines.stream().filter(l -> l.verdict() == Verdict.IMPROVED).count();
        out.println();
        out.println(lines.size() + " figures compared: " + reg.size() + " regression" + (reg.size() == 1 ? "" : "s")
                + ", " + imp + " improved beyond the noise");
        reg.forEach(l -> out.println("REGRESSION " + l.key() + ": " + l.what()));
    }

    private static String figure(double v, double lo, double hi) {
        return ResultsTable.fmt(v) + " [" + ResultsTable.fmt(lo) + "–" + ResultsTable.fmt(hi) + "]";
    }
}
