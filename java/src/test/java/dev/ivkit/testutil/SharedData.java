package dev.ivkit.testutil;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates ../shared/data (the project's third-party data, never copied into the repo). Surefire passes its location
 * as the system property {@code ivkit.shared}; tests that need a file call {@link #require} and are skipped with a
 * message naming the missing folder when it is absent (CI always has it).
 */
public final class SharedData {
    private SharedData() {}

    public static Path root() {
        String p = System.getProperty("ivkit.shared");
        return (p != null ? Path.of(p) : Path.of("..", "..", "shared")).toAbsolutePath().normalize();
    }

    /** Path of {@code data/<relative>}; skips the calling test when it does not exist. */
    public static Path require(String relative) {
        Path p = root().resolve("data").resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), () -> "skipped: ../shared/data/" + relative + " is absent (looked in " + p + ")");
        return p;
    }

    public static Path stories260K() {
        return require("models/stories260K");
    }
}
