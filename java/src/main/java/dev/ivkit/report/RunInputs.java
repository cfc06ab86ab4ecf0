package dev.ivkit.report;

import dev.ivkit.results.ResultsFile;
import dev.ivkit.results.ResultsFormatException;
import dev.ivkit.train.MetricsFormatException;
import dev.ivkit.train.MetricsLog;
import dev.ivkit.results.EvalFile;
import dev.ivkit.results.OutputFormatException;
import dev.ivkit.results.ProbeFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The report's input files, found in a run folder and its immediate subfolders (and the demo's validity scans,
 * {@code validity/NAME/scan.json}) and all read up front, so that a bad file fails the report before anything is
 * written.
 */
final class RunInputs {
    /** The files found, in {@link #find} order. */
    final List<Path> files;
    private final Map<String, List<Path>> byName = new LinkedHashMap<>();
    private final Map<Path, List<MetricsLog.Line>> lines = new LinkedHashMap<>();
    private final Map<Path, ResultsFile.Results> results = new LinkedHashMap<>();
    private final Map<Path, EvalFile.Eval> evals = new LinkedHashMap<>();
    private final Map<Path, ProbeFile.Probe> probes = new LinkedHashMap<>();
    private final List<Path> validityScans = new ArrayList<>();

    private RunInputs(Path runDir, List<Path> files) {
        this.files = files;
        for (String n : ReportWriter.INPUTS) {
            byName.put(n, new ArrayList<>());
        }
        for (Path f : files) {
            if (runDir.resolve(VALIDITY).equals(f.getParent().getParent())) {
                validityScans.add(f);   // their own section; not among the run's scans
            } else {
                byName.get(f.getFileName().toString()).add(f);
            }
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.equals(MetricsLog.FILE_NAME)) {
                lines.put(f, readMetrics(f));
            } else if (name.equals(EvalFile.NAME)) {
                evals.put(f, typed(() -> EvalFile.read(f)));
            } else if (name.equals(ProbeFile.NAME)) {
                probes.put(f, typed(() -> ProbeFile.read(f)));
            }   // scan.json: read by CieSection through ScanFile; results.json: below, through ResultsFile
        }
        for (Path f : byName.get("results.json")) {
            try {
                results.put(f, ResultsFile.read(f));
            } catch (ResultsFormatException e) {
                throw new ReportException(f, e.field(), e.reason(), e);
            }
        }
    }

    /** Finds and reads the inputs of {@code runDir}; none found is a {@link ReportException}. */
    static RunInputs read(Path runDir) {
        List<Path> files = find(runDir);
        if (files.isEmpty()) {
            throw new ReportException(runDir, null, "no " + String.join(", ", ReportWriter.INPUTS)
                    + " in the folder or its immediate subfolders; nothing to report");
        }
        return new RunInputs(runDir, files);
    }

    /** The input files found (sorted: the run folder's own files, then each subfolder's, by name). */
    static List<Path> find(Path runDir) {
        if (!Files.isDirectory(runDir)) {
            throw new ReportException(runDir, null, Files.exists(runDir) ? "not a folder" : "no such folder");
        }
        List<Path> dirs = new ArrayList<>();
        dirs.add(runDir);
        try (Stream<Path> s = Files.list(runDir)) {
            s.filter(Files::isDirectory).sorted(Comparator.comparing(Path::toString)).forEach(dirs::add);
        } catch (IOException e) {
            throw new ReportException(runDir, null, "cannot list: " + e.getMessage(), e);
        }
        Path validity = runDir.resolve(VALIDITY);
        if (Files.isDirectory(validity)) {
            try (Stream<Path> s = Files.list(validity)) {
                s.filter(Files::isDirectory).sorted(Comparator.comparing(Path::toString)).forEach(dirs::add);
            } catch (IOException e) {
                throw new ReportException(validity, null, "cannot list: " + e.getMessage(), e);
            }
        }
        List<Path> out = new ArrayList<>();
        for (Path d : dirs) {
            for (String name : ReportWriter.INPUTS) {
                Path f = d.resolve(name);
                if (Files.isRegularFile(f)) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    /** The folder of the demo's validity scans, one subfolder per task and corrupted-prompt design. */
    static final String VALIDITY = "validity";

    /** The demo's validity scans ({@code validity/TASK-DESIGN/scan.json}), in {@link #find} order. */
    List<Path> validityScans() {
        return validityScans;
    }

    /** The files of one input kind ({@code scan.json}, ...), in {@link #find} order. */
    List<Path> named(String name) {
        return byName.get(name);
    }

    /** The continual studies ({@code results.json}), read through their owner {@link ResultsFile}. */
    Map<Path, ResultsFile.Results> results() {
        return results;
    }

    /** The {@code eval.json} files, read by their owner. */
    Map<Path, EvalFile.Eval> evals() {
        return evals;
    }

    /** The {@code probe.json} files, read by their owner. */
    Map<Path, ProbeFile.Probe> probes() {
        return probes;
    }

    /** An owner's read, its format errors as {@link ReportException}s naming the same file and member. */
    private static <T> T typed(java.util.function.Supplier<T> read) {
        try {
            return read.get();
        } catch (OutputFormatException e) {
            throw new ReportException(e.file(), e.field(), e.reason(), e);
        }
    }

    /** The records of the {@code metrics.jsonl} files ({@link MetricsLog}). */
    Map<Path, List<MetricsLog.Line>> lines() {
        return lines;
    }

    /** A metrics file's records; a malformed line is a {@link ReportException} naming the file and the line. */
    private static List<MetricsLog.Line> readMetrics(Path f) {
        try {
            return new MetricsLog(f).readAll();
        } catch (MetricsFormatException e) {
            throw new ReportException(f, e.field(), e.reason(), e);
        }
    }
}
