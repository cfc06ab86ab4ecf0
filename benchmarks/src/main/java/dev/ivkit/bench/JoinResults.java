package dev.ivkit.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins the JMH JSON result files of several JMH invocations into one (the smoke run needs one invocation per group
 * of benchmarks whose {@code -p shape=...} values differ). Each input must be a JSON array with at least one result;
 * the output, written atomically, is one array of all their elements in order.
 *
 * <p>Usage: {@code JoinResults OUT.json IN.json...}. Exit 2 on bad input (named on one line on stderr).
 */
public final class JoinResults {
    private JoinResults() {}

    /** Runs {@link #run} and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    static int run(String[] args, PrintStream err) {
        if (args.length < 2) {
            err.println("usage: JoinResults OUT.json IN.json...");
            return 2;
        }
        List<String> parts = new ArrayList<>();
        try {
            for (int i = 1; i < args.length; i++) {
                Compare.load(args[i]);  // a JMH JSON array with results, or BadInput naming the file
                String text = Files.readString(Path.of(args[i]), StandardCharsets.UTF_8).strip();
                parts.add(text.substring(1, text.length() - 1).strip());
            }
            Path out = Path.of(args[0]).toAbsolutePath();
            Path tmp = Files.createTempFile(out.getParent(), out.getFileName().toString(), ".tmp");
            Files.writeString(tmp, "[\n" + String.join(",\n", parts) + "\n]\n", StandardCharsets.UTF_8);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return 0;
        } catch (Compare.BadInput e) {
            err.println("join results: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("join results: cannot write " + args[0] + " (" + e + ")");
            return 2;
        }
    }
}
