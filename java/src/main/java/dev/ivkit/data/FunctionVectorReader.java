package dev.ivkit.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads Todd et al.'s function-vector task files for {@link TaskDataset#loadFunctionVector(Path, BlankOutputs)}. */
final class FunctionVectorReader {
    private FunctionVectorReader() {}

    /** The examples of a JSON array of {@code {"input", "output"}} records (or {@code instruction} for input). */
    static TaskDataset read(Path json, BlankOutputs blankOutputs) {
        ExampleRecords.requireNonNull(json, "json");
        List<JsonElement> records = JsonRecords.readArray(json);
        List<TaskExample> out = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            JsonObject o = JsonRecords.asObject(json, i, records.get(i), "record");
            String inKey = !o.has("input") && o.has("instruction") ? "instruction" : "input";
            ExampleRecords.add(out, json, i, JsonRecords.string(json, i, null, o, inKey), inKey,
                    JsonRecords.string(json, i, null, o, "output"), "output", blankOutputs);
        }
        return new TaskDataset(ExampleRecords.stem(json), json, ExampleRecords.noneLeft(out, json), null, null, List.of(),
                List.of());
    }
}
