package dev.ivkit.iv;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Typed reads of one JSON file of a scan ({@link ScanFile}, {@link ScanPartialFile}): each getter returns null for an
 * absent (or JSON null) member unless it is required, and throws a {@link ModelFormatException} naming the file and
 * the member's path ({@code per_prompt[2].cie[0][1]}) for a missing required member or a member of the wrong shape.
 */
final class ScanJson {
    /** Pretty, insertion-ordered, doubles as {@link Double#toString} (they read back bit-exactly), NaN as NaN. */
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .disableHtmlEscaping().create();

    final Path file;

    ScanJson(Path file) {
        this.file = file;
    }

    /** The file's top-level object; a missing file, bad JSON or another top-level value names the file. */
    JsonObject readObject() {
        JsonElement e;
        try {
            e = JsonParser.parseString(Files.readString(file));
        } catch (IOException | RuntimeException ex) {
            throw new ModelFormatException(file, null, "cannot read: " + ex.getMessage(), ex);
        }
        if (!e.isJsonObject()) {
            throw new ModelFormatException(file, null, "expected a JSON object at the top level");
        }
        return e.getAsJsonObject();
    }

    ModelFormatException error(String field, String message) {
        return new ModelFormatException(file, field, message);
    }

    static String path(String parent, String key) {
        return parent.isEmpty() ? key : parent + "." + key;
    }

    private JsonElement member(JsonObject o, String key, String parent, boolean required) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            if (required) {
                throw error(path(parent, key), "missing");
            }
            return null;
        }
        return e;
    }

    String str(JsonObject o, String key, String parent, boolean required) {
        JsonElement e = member(o, key, parent, required);
        if (e == null) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw error(path(parent, key), "expected a string, got " + abbreviate(e));
        }
        return e.getAsString();
    }

    Long integer(JsonObject o, String key, String parent, boolean required) {
        JsonElement e = member(o, key, parent, required);
        if (e == null) {
            return null;
        }
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            try {
                return Long.parseLong(e.getAsString());
            } catch (NumberFormatException ex) {
                // fall through to the error
            }
        }
        throw error(path(parent, key), "expected an integer, got " + abbreviate(e));
    }

    Integer int32(JsonObject o, String key, String parent, boolean required) {
        Long v = integer(o, key, parent, required);
        if (v != null && (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)) {
            throw error(path(parent, key), "out of range: " + v);
        }
        return v == null ? null : v.intValue();
    }

    Double num(JsonObject o, String key, String parent, boolean required) {
        JsonElement e = member(o, key, parent, required);
        return e == null ? null : number(e, path(parent, key));
    }

    /** A number; NaN and infinities may be written bare or as strings ("NaN"), JSON null reads as NaN. */
    double number(JsonElement e, String field) {
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        if (e.isJsonPrimitive()) {
            JsonPrimitive p = e.getAsJsonPrimitive();
            if (p.isNumber() || p.isString()) {
                try {
                    return Double.parseDouble(p.getAsString());
                } catch (NumberFormatException ex) {
                    // fall through to the error
                }
            }
        }
        throw error(field, "expected a number, got " + abbreviate(e));
    }

    JsonArray array(JsonObject o, String key, String parent, boolean required) {
        JsonElement e = member(o, key, parent, required);
        if (e == null) {
            return null;
        }
        if (!e.isJsonArray()) {
            throw error(path(parent, key), "expected an array, got " + abbreviate(e));
        }
        return e.getAsJsonArray();
    }

    JsonObject object(JsonElement e, String field) {
        if (e == null || !e.isJsonObject()) {
            throw error(field, "expected an object, got " + (e == null ? "nothing" : abbreviate(e)));
        }
        return e.getAsJsonObject();
    }

    /**
     * A [rows][cols] array of numbers; with {@code rectangular} every row must be as long as the first (and there must
     * be at least one), else rows may differ in length.
     */
    double[][] matrix(JsonObject o, String key, String parent, boolean required, boolean rectangular) {
        JsonArray rows = array(o, key, parent, required);
        if (rows == null) {
            return null;
        }
        String p = path(parent, key);
        if (rectangular && rows.isEmpty()) {
            throw error(p, "no rows");
        }
        double[][] out = new double[rows.size()][];
        for (int r = 0; r < out.length; r++) {
            JsonElement row = rows.get(r);
            if (!row.isJsonArray()) {
                throw error(p + "[" + r + "]", "expected an array of numbers, got " + abbreviate(row));
            }
            JsonArray a = row.getAsJsonArray();
            out[r] = new double[a.size()];
            for (int c = 0; c < a.size(); c++) {
                out[r][c] = number(a.get(c), p + "[" + r + "][" + c + "]");
            }
            if (rectangular && out[r].length != out[0].length) {
                throw error(p + "[" + r + "]", "has " + out[r].length + " numbers, row 0 has " + out[0].length);
            }
        }
        return out;
    }

    /**
     * Checks the {@code format} and {@code schema_version} members: the format must be {@code format} (when absent:
     * refused if {@code formatRequired}), the version at most {@code supported}; absent versions are 1.
     *
     * @return the file's schema version
     */
    int version(JsonObject o, String format, boolean formatRequired, int supported) {
        String f = str(o, "format", "", formatRequired);
        if (f != null && !f.equals(format)) {
            throw error("format", "expected \"" + format + "\", got \"" + f + "\"");
        }
        Integer v = int32(o, "schema_version", "", false);
        if (v == null) {
            return 1;
        }
        if (v < 1 || v > supported) {
            throw error("schema_version", "version " + v + " is not supported (this ivkit reads versions 1 to "
                    + supported + ")");
        }
        return v;
    }

    private static String abbreviate(JsonElement e) {
        String s = e.toString();
        return s.length() > 40 ? s.substring(0, 37) + "..." : s;
    }
}
