package dev.ivkit.model.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.ivkit.ModelFormatException;
import java.math.BigDecimal;
import java.nio.file.Path;

/**
 * Typed reads of a JSON object's fields for config files: a missing required field or a field of the wrong type is a
 * {@link ModelFormatException} naming the file and the field (with {@code prefix}, e.g. "rope_scaling.", in front).
 */
final class JsonFields {
    private final Path file;
    private final JsonObject o;
    private final String prefix;

    JsonFields(Path file, JsonObject o, String prefix) {
        this.file = file;
        this.o = o;
        this.prefix = prefix;
    }

    Path file() {
        return file;
    }

    JsonObject json() {
        return o;
    }

    /** The field's full name as error messages give it. */
    String name(String key) {
        return prefix + key;
    }

    /** The object's own name ("rope_scaling"), or null for the top level. */
    String objectName() {
        return prefix.isEmpty() ? null : prefix.substring(0, prefix.length() - 1);
    }

    boolean has(String key) {
        JsonElement el = o.get(key);
        return el != null && !el.isJsonNull();
    }

    ModelFormatException error(String key, String message) {
        return new ModelFormatException(file, key == null ? null : name(key), message);
    }

    static Long exactLong(JsonElement el) {
        if (el == null || !el.isJsonPrimitive() || !((JsonPrimitive) el).isNumber()) {
            return null;
        }
        try {
            return new BigDecimal(el.getAsString()).longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            return null;
        }
    }

    int reqInt(String key) {
        JsonElement el = o.get(key);
        if (el == null || el.isJsonNull()) {
            throw error(key, "missing field " + name(key));
        }
        Long v = exactLong(el);
        if (v == null || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw error(key, name(key) + " is not an int: " + el);
        }
        return v.intValue();
    }

    int optInt(String key, int dflt) {
        return has(key) ? reqInt(key) : dflt;
    }

    double reqDouble(String key) {
        JsonElement el = o.get(key);
        if (el == null || el.isJsonNull()) {
            throw error(key, "missing field " + name(key));
        }
        if (!el.isJsonPrimitive() || !((JsonPrimitive) el).isNumber()) {
            throw error(key, name(key) + " is not a number: " + el);
        }
        double v = el.getAsDouble();
        if (!Double.isFinite(v)) {
            throw error(key, name(key) + " is not finite: " + el);
        }
        return v;
    }

    double optDouble(String key, double dflt) {
        return has(key) ? reqDouble(key) : dflt;
    }

    boolean optBool(String key, boolean dflt) {
        if (!has(key)) {
            return dflt;
        }
        JsonElement el = o.get(key);
        if (!el.isJsonPrimitive() || !((JsonPrimitive) el).isBoolean()) {
            throw error(key, name(key) + " is not a boolean: " + el);
        }
        return el.getAsBoolean();
    }

    String optString(String key, String dflt) {
        if (!has(key)) {
            return dflt;
        }
        JsonElement el = o.get(key);
        if (!el.isJsonPrimitive() || !((JsonPrimitive) el).isString()) {
            throw error(key, name(key) + " is not a string: " + el);
        }
        return el.getAsString();
    }

    /** The field as an object, or null when absent or JSON null. */
    JsonObject optObject(String key) {
        if (!has(key)) {
            return null;
        }
        JsonElement el = o.get(key);
        if (!el.isJsonObject()) {
            throw error(key, name(key) + " is not an object: " + el);
        }
        return el.getAsJsonObject();
    }
}
