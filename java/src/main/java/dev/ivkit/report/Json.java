package dev.ivkit.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tolerant, typed reads of the report's inputs: an absent (or JSON null) field is {@code null} so its section is
 * left out; a field that is present with the wrong shape is a {@link ReportException} naming the file and field.
 * Unknown fields are never looked at.
 */
final class Json {
    private Json() {}

    static JsonObject readObject(Path file) {
        JsonElement e;
        try {
            e = JsonParser.parseString(Files.readString(file));
        } catch (IOException | RuntimeException ex) {
            throw new ReportException(file, null, "not valid JSON: " + ex.getMessage(), ex);
        }
        if (!e.isJsonObject()) {
            throw new ReportException(file, null, "expected a JSON object at the top level");
        }
        return e.getAsJsonObject();
    }

    /** One JSON object per non-blank line. */
    static List<JsonObject> readLines(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException | RuntimeException ex) {
            throw new ReportException(file, null, "cannot read: " + ex.getMessage(), ex);
        }
        List<JsonObject> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                JsonElement e = JsonParser.parseString(lines.get(i));
                if (!e.isJsonObject()) {
                    throw new IllegalStateException("not an object");
                }
                out.add(e.getAsJsonObject());
            } catch (RuntimeException ex) {
                throw new ReportException(file, "line " + (i + 1), "not a JSON object: " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    static boolean present(JsonObject o, String key) {
        return o != null && o.has(key) && !o.get(key).isJsonNull();
    }

    static boolean has(JsonObject o, String key) {
        return present(o, key);
    }

    static JsonObject obj(Path f, JsonObject o, String key, String path) {
        if (!present(o, key)) {
            return null;
        }
        if (!o.get(key).isJsonObject()) {
            throw new ReportException(f, path(path, key), "expected an object");
        }
        return o.getAsJsonObject(key);
    }

    static JsonArray arr(Path f, JsonObject o, String key, String path) {
        if (!present(o, key)) {
            return null;
        }
        if (!o.get(key).isJsonArray()) {
            throw new ReportException(f, path(path, key), "expected an array");
        }
        return o.getAsJsonArray(key);
    }

    static String str(Path f, JsonObject o, String key, String path) {
        if (!present(o, key)) {
            return null;
        }
        JsonElement e = o.get(key);
        if (!e.isJsonPrimitive()) {
            throw new ReportException(f, path(path, key), "expected a string");
        }
        return e.getAsString();
    }

    /** A number (NaN written as NaN or "NaN" allowed); null when absent. */
    static Double num(Path f, JsonObject o, String key, String path) {
        if (!present(o, key)) {
            return null;
        }
        return num(f, o.get(key), path(path, key));
    }

    static double num(Path f, JsonElement e, String path) {
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        if (e.isJsonPrimitive()) {
            JsonPrimitive p = e.getAsJsonPrimitive();
            if (p.isNumber()) {
                return p.getAsDouble();
            }
            if (p.isString()) {
                try {
                    return Double.parseDouble(p.getAsString());
                } catch (NumberFormatException ex) {
                    // fall through to the error
                }
            }
        }
        throw new ReportException(f, path, "expected a number, got " + abbreviate(e.toString()));
    }

    static double[] vector(Path f, JsonElement e, String path) {
        if (e == null || !e.isJsonArray()) {
            throw new ReportException(f, path, "expected an array of numbers");
        }
        JsonArray a = e.getAsJsonArray();
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = num(f, a.get(i), path + "[" + i + "]");
        }
        return out;
    }

    /** A [rows][cols] array of numbers (rows may differ in length; null entries are NaN); null when absent. */
    static double[][] matrix(Path f, JsonObject o, String key, String path) {
        if (!present(o, key)) {
            return null;
        }
        String p = path(path, key);
        JsonElement e = o.get(key);
        if (!e.isJsonArray()) {
            throw new ReportException(f, p, "expected an array of arrays of numbers");
        }
        JsonArray rows = e.getAsJsonArray();
        double[][] out = new double[rows.size()][];
        for (int r = 0; r < out.length; r++) {
            out[r] = vector(f, rows.get(r), p + "[" + r + "]");
        }
        return out;
    }

    /** Element {@code i} of {@code a}, which must be an object. */
    static JsonObject element(Path f, JsonArray a, int i, String path) {
        JsonElement e = a.get(i);
        if (!e.isJsonObject()) {
            throw new ReportException(f, path + "[" + i + "]", "expected an object");
        }
        return e.getAsJsonObject();
    }

    /** An absent number as NaN. */
    static double nan(Double v) {
        return v == null ? Double.NaN : v;
    }

    /** An array of strings (empty when absent). */
    static List<String> strings(Path f, JsonArray a, String path) {
        List<String> out = new ArrayList<>();
        if (a == null) {
            return out;
        }
        for (int i = 0; i < a.size(); i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonPrimitive()) {
                throw new ReportException(f, path + "[" + i + "]", "expected a string");
            }
            out.add(e.getAsString());
        }
        return out;
    }

    static String path(String parent, String key) {
        return parent == null || parent.isEmpty() ? key : parent + "." + key;
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 37) + "..." : s;
    }
}
