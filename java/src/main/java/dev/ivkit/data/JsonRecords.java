package dev.ivkit.data;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.EOFException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Strict JSON reading with errors that name the file and record. Package-private helper of the loaders. */
final class JsonRecords {
    private JsonRecords() {}

    private static final TypeAdapter<JsonElement> ELEMENT = new Gson().getAdapter(JsonElement.class);

    /** The elements of a top-level JSON array, parsed one by one so a syntax error names the record it is in. */
    static List<JsonElement> readArray(Path file) {
        List<JsonElement> out = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8); JsonReader in = new JsonReader(r)) {
            in.setStrictness(Strictness.STRICT);
            JsonToken first;
            try {
                first = in.peek();
            } catch (EOFException e) {
                throw new DataFormatException(file, -1, "no records (the file is empty)");
            }
            if (first != JsonToken.BEGIN_ARRAY) {
                throw new DataFormatException(file, -1,
                        "not a JSON array of records (top-level value is " + describe(first) + ")");
            }
            in.beginArray();
            while (true) {
                int index = out.size();
                try {
                    if (!in.hasNext()) {
                        break;
                    }
                    out.add(ELEMENT.read(in));
                } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
                    throw new DataFormatException(file, index, "malformed JSON: " + clean(e.getMessage()), e);
                }
            }
            in.endArray();
            boolean trailing;
            try {
                trailing = in.peek() != JsonToken.END_DOCUMENT;
            } catch (IOException | IllegalStateException e) {
                trailing = true;
            }
            if (trailing) {
                throw new DataFormatException(file, -1, "malformed JSON: content after the top-level array");
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, -1, "file does not exist");
        } catch (IOException e) {
            throw new DataFormatException(file, -1, "cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new DataFormatException(file, -1, "no records (empty JSON array)");
        }
        return out;
    }

    /** A top-level JSON object. */
    static JsonObject readObject(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8); JsonReader in = new JsonReader(r)) {
            in.setStrictness(Strictness.STRICT);
            JsonToken first;
            try {
                first = in.peek();
            } catch (EOFException e) {
                throw new DataFormatException(file, -1, "no records (the file is empty)");
            }
            if (first != JsonToken.BEGIN_OBJECT) {
                throw new DataFormatException(file, -1, "not a JSON object (top-level value is " + describe(first) + ")");
            }
            JsonElement e = ELEMENT.read(in);
            if (in.peek() != JsonToken.END_DOCUMENT) {
                throw new DataFormatException(file, -1, "malformed JSON: content after the top-level object");
            }
            return e.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, -1, "file does not exist");
        } catch (DataFormatException e) {
            throw e;
        } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
            throw new DataFormatException(file, -1, "malformed JSON: " + clean(e.getMessage()), e);
        }
    }

    /** Gson's message without its advice to switch to lenient parsing and its troubleshooting link. */
    static String clean(String m) {
        if (m == null) {
            return "syntax error";
        }
        int see = m.indexOf("\nSee https://");
        if (see >= 0) {
            m = m.substring(0, see);
        }
        return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ", "").strip();
    }

    static JsonObject asObject(Path file, int record, JsonElement e, String what) {
        if (e == null || !e.isJsonObject()) {
            throw new DataFormatException(file, record, what + " is not a JSON object (got " + kind(e) + ")");
        }
        return e.getAsJsonObject();
    }

    /**
     * The string field {@code key} of {@code obj}; {@code what} prefixes the message when the object is nested (null
     * for a top-level record).
     */
    static String string(Path file, int record, String what, JsonObject obj, String key) {
        JsonElement v = obj.get(key);
        String where = what == null ? "" : what + ": ";
        if (v == null) {
            throw new DataFormatException(file, record, where + "missing \"" + key + "\"");
        }
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
            throw new DataFormatException(file, record, where + "\"" + key + "\" is not a string (got " + kind(v) + ")");
        }
        return v.getAsString();
    }

    /**
     * A field that is a string or a non-empty array whose first element is a string (SuperNI's {@code output} and
     * {@code Definition}); returns the string or the first element.
     */
    static String stringOrFirst(Path file, int record, String what, JsonObject obj, String key) {
        JsonElement v = obj.get(key);
        String where = what == null ? "" : what + ": ";
        if (v == null) {
            throw new DataFormatException(file, record, where + "missing \"" + key + "\"");
        }
        if (v.isJsonArray()) {
            JsonArray a = v.getAsJsonArray();
            if (a.isEmpty()) {
                throw new DataFormatException(file, record, where + "\"" + key + "\" is an empty array");
            }
            v = a.get(0);
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new DataFormatException(file, record,
                        where + "\"" + key + "\"[0] is not a string (got " + kind(v) + ")");
            }
            return v.getAsString();
        }
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
            throw new DataFormatException(file, record,
                    where + "\"" + key + "\" is neither a string nor an array of strings (got " + kind(v) + ")");
        }
        return v.getAsString();
    }

    static String kind(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "null";
        }
        if (e.isJsonArray()) {
            return "an array";
        }
        if (e.isJsonObject()) {
            return "an object";
        }
        var p = e.getAsJsonPrimitive();
        return p.isBoolean() ? "boolean " + p.getAsBoolean() : p.isNumber() ? "number " + p.getAsString() : "a string";
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case BEGIN_OBJECT -> "an object";
            case BEGIN_ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> t.toString();
        };
    }
}
