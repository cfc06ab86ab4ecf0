package dev.ivkit.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.ivkit.InvalidArgumentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads SuperNI tasks for {@link TaskDataset}: one split of SAPO's re-split with its {@code instructions.json} entry,
 * and a file in the original SuperNI schema.
 */
final class SuperNiReader {
    private SuperNiReader() {}

    /** One split of a SAPO task folder, with the task's definition, answer-format suffix and labels. */
    static TaskDataset readSapo(Path taskDir, String split, Path instructionsJson, BlankOutputs blankOutputs) {
        ExampleRecords.requireNonNull(taskDir, "taskDir");
        ExampleRecords.requireNonNull(instructionsJson, "instructionsJson");
        if (!"train".equals(split) && !"dev".equals(split) && !"test".equals(split)) {
            throw new InvalidArgumentException("split", "must be train, dev or test, got " + split);
        }
        Path dirName = taskDir.getFileName();
        String task = dirName == null ? taskDir.toString() : dirName.toString();
        Path file = taskDir.resolve(split + ".json");
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file, -1, "split \"" + split + "\" is absent for task " + task
                    + " (no " + split + ".json in its folder)");
        }
        JsonObject all = JsonRecords.readObject(instructionsJson);
        JsonElement entry = all.get(task);
        if (entry == null) {
            throw new DataFormatException(instructionsJson, -1, "no entry for task " + task);
        }
        JsonObject meta = JsonRecords.asObject(instructionsJson, -1, entry, "entry " + task);
        String what = "entry " + task;
        String definition = JsonRecords.string(instructionsJson, -1, what, meta, "instruction");
        String suffix = meta.has("suffix") ? JsonRecords.string(instructionsJson, -1, what, meta, "suffix") : null;
        List<String> labels = new ArrayList<>();
        if (meta.has("labels")) {
            JsonElement l = meta.get("labels");
            if (!l.isJsonArray()) {
                throw new DataFormatException(instructionsJson, -1, what + ": \"labels\" is not an array");
            }
            for (JsonElement e : l.getAsJsonArray()) {
                if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                    throw new DataFormatException(instructionsJson, -1,
                            what + ": \"labels\" holds " + JsonRecords.kind(e) + ", not a string");
                }
                labels.add(e.getAsString());
            }
        }

        List<JsonElement> records = JsonRecords.readArray(file);
        List<TaskExample> out = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            JsonObject o = JsonRecords.asObject(file, i, records.get(i), "record");
            ExampleRecords.add(out, file, i, JsonRecords.string(file, i, null, o, "sentence"), "sentence",
                    JsonRecords.string(file, i, null, o, "label"), "label", blankOutputs);
        }
        return new TaskDataset(task, file, ExampleRecords.noneLeft(out, file), definition, suffix, labels, List.of());
    }

    /** A task file in the original SuperNI schema: definition, positive examples and instances. */
    static TaskDataset readOriginal(Path file, BlankOutputs blankOutputs) {
        ExampleRecords.requireNonNull(file, "file");
        JsonObject root = JsonRecords.readObject(file);
        String definition = JsonRecords.stringOrFirst(file, -1, null, root, "Definition");
        if (definition.isBlank()) {
            throw new DataFormatException(file, -1, "\"Definition\" is blank");
        }
        List<TaskExample> positives = new ArrayList<>();
        JsonElement pos = root.get("Positive Examples");
        if (pos != null && !pos.isJsonNull()) {
            if (!pos.isJsonArray()) {
                throw new DataFormatException(file, -1, "\"Positive Examples\" is not an array");
            }
            JsonArray a = pos.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                String what = "\"Positive Examples\"[" + i + "]";
                JsonObject o = JsonRecords.asObject(file, -1, a.get(i), what);
                String in = JsonRecords.string(file, -1, what, o, "input");
                String outText = JsonRecords.stringOrFirst(file, -1, what, o, "output");
                if (in.isBlank() || outText.isBlank()) {
                    throw new DataFormatException(file, -1, what + ": \"" + (in.isBlank() ? "input" : "output")
                            + "\" is blank");
                }
                positives.add(new TaskExample(in, outText));
            }
        }
        JsonElement inst = root.get("Instances");
        if (inst == null) {
            throw new DataFormatException(file, -1, "missing \"Instances\"");
        }
        if (!inst.isJsonArray()) {
            throw new DataFormatException(file, -1, "\"Instances\" is not an array (got " + JsonRecords.kind(inst) + ")");
        }
        JsonArray a = inst.getAsJsonArray();
        if (a.isEmpty()) {
            throw new DataFormatException(file, -1, "no records (\"Instances\" is empty)");
        }
        List<TaskExample> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            JsonObject o = JsonRecords.asObject(file, i, a.get(i), "instance");
            ExampleRecords.add(out, file, i, JsonRecords.string(file, i, null, o, "input"), "input",
                    JsonRecords.stringOrFirst(file, i, null, o, "output"), "output", blankOutputs);
        }
        return new TaskDataset(superNiName(file), file, ExampleRecords.noneLeft(out, file), definition, null, List.of(),
                positives);
    }

    /** The task name: the file's stem (less {@code .partial}) when it starts with {@code task}, else its folder's. */
    private static String superNiName(Path file) {
        String s = ExampleRecords.stem(file);
        if (s.startsWith("task")) {
            return s.endsWith(".partial") ? s.substring(0, s.length() - ".partial".length()) : s;
        }
        Path parent = file.toAbsolutePath().getParent();
        return parent == null || parent.getFileName() == null ? s : parent.getFileName().toString();
    }
}
