package dev.ivkit.train;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.IvkitException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;

/**
 * Training checkpoints under {@code OUT/checkpoints/}: each in its own directory {@code step-N/} (adapter in PEFT
 * layout, {@code optimizer.safetensors}, {@code state.json}); {@code OUT/checkpoints/latest.json} names the newest
 * complete one and is replaced atomically only after that directory is fully written, so a kill at any moment leaves
 * the previous checkpoint intact. Older directories are removed after the pointer moves.
 */
public final class Checkpoints {
    /**
     * What a checkpoint restores besides tensors. {@code worldSize}: the number of data-parallel processes that wrote
     * it (0 in checkpoints from before it was recorded: read as 1).
     *
     * @param step            optimizer steps taken
     * @param epoch           the epoch to continue in
     * @param cursor          examples of that epoch's order already trained on
     * @param metricsLines    lines of the metrics log written so far (a resume truncates the log to them)
     * @param argsFingerprint fingerprint of the training arguments; a resume with other arguments is refused
     * @param worldSize       data-parallel processes that wrote it; 0 in older checkpoints
     */
    public record State(int step, int epoch, int cursor, int metricsLines, String argsFingerprint, int worldSize) {
        /**
         * The number of data-parallel processes that wrote the checkpoint.
         *
         * @return {@code worldSize}, or 1 when it was not recorded
         */
        public int processes() {
            return worldSize <= 0 ? 1 : worldSize;
        }
    }

    private final Path root;

    /**
     * The checkpoints of a training run.
     *
     * @param outDir the run's output directory; checkpoints live in its {@code checkpoints/}
     */
    public Checkpoints(Path outDir) {
        this.root = outDir.resolve("checkpoints");
    }

    /**
     * Whether a complete checkpoint was written.
     *
     * @return true when {@code checkpoints/latest.json} exists
     */
    public boolean exists() {
        return Files.isRegularFile(root.resolve("latest.json"));
    }

    /**
     * Writes checkpoint {@code step-N/} (N = {@code s.step()}), points {@code latest.json} at it, then removes the
     * other {@code step-*} directories.
     *
     * @param adapter the adapter's current weights
     * @param opt     the optimizer, whose moments and step count are stored
     * @param s       the loop state to restore
     * @throws IvkitException when a directory cannot be created or old checkpoints cannot be removed
     */
    public void save(LoraAdapter adapter, AdamW opt, State s) {
        Path dir = root.resolve("step-" + s.step());
        try {
            if (Files.exists(dir)) {
                deleteTree(dir);
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IvkitException("cannot create checkpoint " + dir + ": " + e.getMessage(), e);
        }
        adapter.save(dir.resolve("adapter"));
        Safetensors.write(dir.resolve("optimizer.safetensors"), new LinkedHashMap<>(opt.state()), Map.of("step", Long.toString(opt.stepCount())));
        AtomicFiles.writeString(dir.resolve("state.json"), new Gson().toJson(s));
        AtomicFiles.writeString(root.resolve("latest.json"), new Gson().toJson(Map.of("dir", dir.getFileName().toString())));
        try (Stream<Path> old = Files.list(root)) {
            for (Path p : old.toList()) {
                if (Files.isDirectory(p) && !p.equals(dir) && p.getFileName().toString().startsWith("step-")) {
                    deleteTree(p);
                }
            }
        } catch (IOException e) {
            throw new IvkitException("cannot clean old checkpoints in " + root + ": " + e.getMessage(), e);
        }
    }

    /**
     * The newest checkpoint's directory.
     *
     * @return the directory {@code latest.json} names
     * @throws ModelFormatException when {@code latest.json} is missing or unreadable
     */
    public Path latest() {
        Path ptr = root.resolve("latest.json");
        try {
            JsonObject j = JsonParser.parseString(Files.readString(ptr)).getAsJsonObject();
            return root.resolve(j.get("dir").getAsString());
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(ptr, null, "cannot read the checkpoint pointer: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a checkpoint's loop state.
     *
     * @param dir the checkpoint's directory, as {@link #latest()} returns it
     * @return the state stored in its {@code state.json}
     * @throws ModelFormatException when {@code state.json} is missing or unreadable
     */
    public State readState(Path dir) {
        Path f = dir.resolve("state.json");
        try {
            return new Gson().fromJson(Files.readString(f), State.class);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(f, null, "cannot read checkpoint state: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a checkpoint's adapter.
     *
     * @param dir the checkpoint's directory, as {@link #latest()} returns it
     * @param mc  the configuration of the model the adapter belongs to
     * @return the adapter stored in its {@code adapter/}
     */
    public LoraAdapter readAdapter(Path dir, ModelConfig mc) {
        return LoraAdapter.load(dir.resolve("adapter"), mc);
    }

    /**
     * Reads a checkpoint's optimizer state.
     *
     * @param dir the checkpoint's directory, as {@link #latest()} returns it
     * @return the moments by name, for {@link AdamW#load}
     */
    public Map<String, Tensor> readOptimizer(Path dir) {
        return Safetensors.readAll(dir.resolve("optimizer.safetensors"));
    }

    static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
