package dev.ivkit.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Picks the baseline of a smoke run: of the given {@code *_smoke.json} files (CI passes the committed ones, from
 * {@code git ls-files}), the one whose {@code .meta} beside it has the latest {@code date=} line; equal dates fall
 * back to the file name. File names alone do not order runs of one day (the commit hash follows the date), and a
 * shallow clone has no history to ask.
 *
 * <p>Usage: {@code LastSmokeResult FILE.json...}; prints the chosen path. Exit 2 when no file is given or a file's
 * {@code .meta} is missing or has no {@code date=YYYY-MM-DD HH:MM UTC} line (named on one line on stderr).
 */
public final class LastSmokeResult {
    private static final Pattern DATE = Pattern.compile("(?m)^date=(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}) UTC$");

    private LastSmokeResult() {}

    /** Runs {@link #run} and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        List<Path> files = new ArrayList<>();
        for (String a : args) {
            files.add(Path.of(a));
        }
        try {
            out.println(latest(files));
            return 0;
        } catch (Compare.BadInput e) {
            err.println("last smoke result: " + e.getMessage());
            return 2;
        }
    }

    /** The file with the latest {@code .meta} date (ties: the greatest file name). */
    static Path latest(List<Path> files) throws Compare.BadInput {
        if (files.isEmpty()) {
            throw new Compare.BadInput("no smoke result given (commit one: benchmarks/run.sh --smoke)");
        }
        record Dated(Path file, String date) {}
        List<Dated> dated = new ArrayList<>();
        for (Path f : files) {
            dated.add(new Dated(f, metaDate(f)));
        }
        return dated.stream()
                .max(Comparator.comparing(Dated::date).thenComparing(d -> d.file().getFileName().toString()))
                .orElseThrow().file();
    }

    /** The {@code date=} of the {@code .meta} written beside {@code json} ("YYYY-MM-DD HH:MM", sorts as text). */
    static String metaDate(Path json) throws Compare.BadInput {
        String name = json.getFileName().toString();
        if (!name.endsWith(".json")) {
            throw new Compare.BadInput(json + ": not a .json result file");
        }
        Path meta = json.resolveSibling(name.substring(0, name.length() - ".json".length()) + ".meta");
        String text;
        try {
            text = Files.readString(meta, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new Compare.BadInput(meta + ": no such file (every result has a .meta beside it)");
        } catch (IOException e) {
            throw new Compare.BadInput(meta + ": cannot read (" + e + ")");
        }
        Matcher m = DATE.matcher(text);
        if (!m.find()) {
            throw new Compare.BadInput(meta + ": no line date=YYYY-MM-DD HH:MM UTC");
        }
        return m.group(1);
    }
}
