package dev.ivkit.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.ivkit.util.AtomicFiles;
import java.nio.file.Path;

/**
 * Deterministic JSON output (insertion-ordered maps, pretty-printed, doubles as {@link Double#toString} so they read
 * back bit-exactly, NaN written as {@code NaN}), as the commands write their result files.
 */
final class JsonFiles {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .disableHtmlEscaping().create();

    private JsonFiles() {}

    static String toJson(Object value) {
        return GSON.toJson(value) + "\n";
    }

    /** Writes {@code value} as JSON to {@code file} atomically. */
    static void write(Path file, Object value) {
        AtomicFiles.writeString(file, toJson(value));
    }
}
