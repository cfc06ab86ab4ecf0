package dev.ivkit.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.ModelFormatException;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic JSON output (insertion-ordered maps, pretty-printed, doubles as {@link Double#toString} so they read
 * back bit-exactly, NaN written as {@code NaN}) and the helpers the commands share to read it back.
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

    /** Reads a JSON object; a missing or malformed file is a {@link ModelFormatException} naming it. */
    static JsonObject readObject(Path file) {
        try {
            return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    /** A [rows][cols] array of numbers. */
    static double[][] matrix(Path file, JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonArray()) {
            throw new ModelFormatException(file, key, "missing or not an array");
        }
        try {
            JsonArray rows = e.getAsJsonArray();
            double[][] out = new double[rows.size()][];
            for (int r = 0; r < rows.size(); r++) {
                JsonArray row = rows.get(r).getAsJsonArray();
                out[r] = new double[row.size()];
                for (int c = 0; c < row.size(); c++) {
                    out[r][c] = row.get(c).getAsDouble();
                }
            }
            return out;
        } catch (RuntimeException ex) {
            throw new ModelFormatException(file, key, "not a matrix of numbers: " + ex.getMessage(), ex);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(String s) {
        return sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    /** SHA-256 of a file's bytes (of every regular file directly inside it, by name, for a folder). */
    static String sha256(Path p) {
        try {
            if (!Files.isDirectory(p)) {
                return sha256(Files.readAllBytes(p));
            }
            StringBuilder sb = new StringBuilder();
            try (var s = Files.list(p)) {
                for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                    sb.append(f.getFileName()).append(':').append(sha256(Files.readAllBytes(f))).append('\n');
                }
            }
            return sha256(sb.toString());
        } catch (IOException e) {
            throw new ModelFormatException(p, null, "cannot read: " + e.getMessage(), e);
        }
    }
}
