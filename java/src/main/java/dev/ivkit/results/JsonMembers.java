package dev.ivkit.results;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Typed reads of one JSON object of an output file, each error an {@link OutputFormatException} naming the file and
 * the member's JSON path; and the writing side's JSON style (pretty, NaN written as {@code NaN}, no HTML escaping,
 * numbers as Java writes them so they read back bit-exactly).
 *
 * @param file the file read, named by every error
 * @param o    the object
 * @param path the object's JSON path ("" for the top level), in front of its members' names in errors
 */
record JsonMembers(Path file, JsonObject o, String path) {
    /** The output files' JSON style. */
    static final Gson JSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .disableHtmlEscaping().create();

    /** The file's text; a missing or unreadable file is an {@link OutputFormatException} naming it. */
    static String readText(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OutputFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Writes {@code o} to {@code file} atomically, with a final newline. */
    static void write(Path file, JsonObject o) {
        AtomicFiles.writeString(file, JSON.toJson(o) + "\n");
    }

    /**
     * The top-level object of {@code text}, after checking its {@code format} is {@code format} and its
     * {@code schema_version} is one this ivkit reads (absent: version 1, as files written before versions existed).
     */
    static JsonMembers root(String text, Path file, String format, int maxVersion) {
        JsonElement e;
        try {
            e = JsonParser.parseString(text);
        } catch (RuntimeException ex) {
            throw new OutputFormatException(file, null, "not valid JSON: " + ex.getMessage(), ex);
        }
        if (e == null || !e.isJsonObject()) {
            throw new OutputFormatException(file, null, "expected a JSON object at the top level");
        }
        JsonMembers m = new JsonMembers(file, e.getAsJsonObject(), "");
        String f = m.string("format", true);
        if (!format.equals(f)) {
            throw new OutputFormatException(file, "format", "is \"" + f + "\", expected \"" + format + "\"");
        }
        Integer v = m.integer("schema_version", false);
        if (v != null && (v < 1 || v > maxVersion)) {
            throw new OutputFormatException(file, "schema_version", v + " is not one this ivkit reads (1.." + maxVersion + ")");
        }
        return m;
    }

    /** The schema version read (1 when the file has none). */
    int version() {
        Integer v = integer("schema_version", false);
        return v == null ? 1 : v;
    }

    String where(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    OutputFormatException error(String key, String message) {
        return new OutputFormatException(file, where(key), message);
    }

    boolean has(String key) {
        return o.has(key) && !o.get(key).isJsonNull();
    }

    private JsonElement get(String key, boolean required) {
        if (!has(key)) {
            if (required) {
                throw error(key, "missing");
            }
            return null;
        }
        return o.get(key);
    }

    /** A string member; null when absent and not required. */
    String string(String key, boolean required) {
        JsonElement e = get(key, required);
        if (e == null) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw error(key, "expected a string, got " + e);
        }
        return e.getAsString();
    }

    /** An integer member; null when absent and not required. */
    Integer integer(String key, boolean required) {
        Long v = longValue(key, required);
        if (v != null && (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)) {
            throw error(key, "expected an int, got " + v);
        }
        return v == null ? null : v.intValue();
    }

    /** An integral member; null when absent and not required. */
    Long longValue(String key, boolean required) {
        JsonElement e = get(key, required);
        if (e == null) {
            return null;
        }
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            try {
                return new java.math.BigDecimal(e.getAsString()).longValueExact();
            } catch (ArithmeticException | NumberFormatException ex) {
                // falls through to the error
            }
        }
        throw error(key, "expected an integer, got " + e);
    }

    /** A number member ({@code NaN} allowed, as written for a score not measured); required. */
    double number(String key) {
        JsonElement e = get(key, true);
        if (e.isJsonPrimitive()) {
            JsonPrimitive p = e.getAsJsonPrimitive();
            try {
                if (p.isNumber() || p.isString() && p.getAsString().matches("NaN|-?Infinity")) {
                    return Double.parseDouble(p.getAsString());
                }
            } catch (NumberFormatException ex) {
                // falls through to the error
            }
        }
        throw error(key, "expected a number, got " + e);
    }

    /** An object member, as members read under its path. */
    JsonMembers object(String key) {
        JsonElement e = get(key, true);
        if (!e.isJsonObject()) {
            throw error(key, "expected an object, got " + abbreviate(e));
        }
        return new JsonMembers(file, e.getAsJsonObject(), where(key));
    }

    /** An array member whose elements are all objects, each read under {@code key[i]}. */
    java.util.List<JsonMembers> objects(String key) {
        JsonElement e = get(key, true);
        if (!e.isJsonArray()) {
            throw error(key, "expected an array of objects, got " + abbreviate(e));
        }
        JsonArray a = e.getAsJsonArray();
        java.util.List<JsonMembers> out = new java.util.ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            String at = key + "[" + i + "]";
            if (!a.get(i).isJsonObject()) {
                throw error(at, "expected an object, got " + abbreviate(a.get(i)));
            }
            out.add(new JsonMembers(file, a.get(i).getAsJsonObject(), where(at)));
        }
        return out;
    }

    /** The member names of this object, in file order. */
    java.util.Set<String> keys() {
        return o.keySet();
    }

    /** The raw member (absent: null). */
    JsonElement raw(String key) {
        return o.get(key);
    }

    private static String abbreviate(JsonElement e) {
        String s = e.toString();
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}
