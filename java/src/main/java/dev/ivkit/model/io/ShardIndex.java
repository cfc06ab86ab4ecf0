package dev.ivkit.model.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses a sharded checkpoint's {@code model.safetensors.index.json} and opens the shards its weight map names. */
final class ShardIndex {
    private ShardIndex() {}

    /**
     * Opens every shard {@code index}'s {@code weight_map} names (each once, only inside {@code dir}), adding it to
     * {@code open} and each tensor's shard to {@code where}; a tensor missing from its shard is an error.
     */
    static void open(Path index, Path dir, List<SafetensorsFile> open, Map<String, SafetensorsFile> where) {
        JsonObject root;
        try {
            JsonElement el = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8));
            if (!el.isJsonObject()) {
                throw new ModelFormatException(index, null, "not a JSON object");
            }
            root = el.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(index, null, "file not found", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ModelFormatException(index, null, "not valid UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + index + ": " + e.getMessage(), e);
        } catch (JsonParseException e) {
            throw new ModelFormatException(index, null, "not valid JSON: " + e.getMessage(), e);
        }
        JsonElement wm = root.get("weight_map");
        if (wm == null || !wm.isJsonObject()) {
            throw new ModelFormatException(index, "weight_map", "missing or non-object weight_map");
        }
        Path base = dir.toAbsolutePath().normalize();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : wm.getAsJsonObject().entrySet()) {
            String name = e.getKey();
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new ModelFormatException(index, "weight_map." + name, "shard of " + name + " is not a file name: " + v);
            }
            String shardName = v.getAsString();
            SafetensorsFile shard = shards.get(shardName);
            if (shard == null) {
                Path p = base.resolve(shardName).normalize();
                if (!p.startsWith(base) || p.equals(base)) {
                    throw new ModelFormatException(index, "weight_map." + name, "shard file " + shardName + " is outside " + base);
                }
                if (!Files.isRegularFile(p)) {
                    throw new ModelFormatException(index, shardName, "shard file " + p + " (holding " + name + ") does not exist");
                }
                shard = Safetensors.open(p);
                open.add(shard);
                shards.put(shardName, shard);
            }
            if (!shard.contains(name)) {
                throw new ModelFormatException(shard.path(), name, "tensor " + name + " is listed in " + index.getFileName()
                        + " but not present in this shard");
            }
            where.put(name, shard);
        }
    }
}
