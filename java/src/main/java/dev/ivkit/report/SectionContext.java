package dev.ivkit.report;

import java.nio.file.Path;

/**
 * What the section builders of one rendering share: the run folder (sources are named relative to it) and the
 * counter behind the section ids ({@code cie-1}, {@code sweep-2}, ...), numbered in the order sections are built.
 */
final class SectionContext {
    private final Path runDir;
    private int ids;

    SectionContext(Path runDir) {
        this.runDir = runDir;
    }

    /** {@code f} relative to the run folder, as the report names its sources. */
    String rel(Path f) {
        return runDir.relativize(f).toString();
    }

    /** A fresh section id: {@code base-N}. */
    String id(String base) {
        return base + "-" + (++ids);
    }
}
