package dev.ivkit.cli;

import dev.ivkit.report.ReportWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ivkit report RUN_DIR}: one self-contained HTML file (inline CSS and SVG, no script, no network) from the
 * scan.json, eval.json, probe.json, metrics.jsonl and results.json files in RUN_DIR and its immediate subfolders.
 */
@Command(name = "report", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Write one self-contained HTML report of the results in a run folder.")
final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "folder with scan.json, eval.json, probe.json, "
            + "metrics.jsonl and/or results.json (also looked for one level down)")
    Path runDir;

    @Option(names = "--out", paramLabel = "FILE", description = "output file (default: RUN_DIR/report.html)")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path target = out != null ? out : runDir.resolve("report.html");
        String version = new Main.Version().getVersion()[0];
        List<String> sections = new ReportWriter(runDir, new ReportWriter.Footer(commandLine(), version)).write(target);
        System.out.println("report: " + sections.size() + " section" + (sections.size() == 1 ? "" : "s") + " ("
                + String.join("; ", sections) + "); wrote " + target);
        return 0;
    }

    /** The command line as typed (arguments with spaces or quotes shell-quoted). */
    private String commandLine() {
        StringBuilder sb = new StringBuilder("ivkit");
        List<String> args = spec.root().commandLine().getParseResult() == null ? List.of()
                : spec.root().commandLine().getParseResult().originalArgs();
        for (String a : args) {
            sb.append(' ').append(a.matches("[A-Za-z0-9_./=:,+@%-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return sb.toString();
    }
}
