package dev.ivkit.demo;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import dev.ivkit.demo.ContinualStage.Run;
import dev.ivkit.results.StudyFiles;
import dev.ivkit.util.AtomicFiles;
import dev.ivkit.util.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The continual stage's finished runs, kept as {@code VARIANT-seed-S.json} in the output's {@value #FOLDER} folder
 * (written atomically as each run ends) so that an interrupted demo — {@code --full} runs for about an hour — continues where it stopped: a rerun
 * with the same output folder, organism and settings reads the finished runs instead of training them again. Each file
 * carries a fingerprint of the organism's files and the settings; a file of another fingerprint is ignored and replaced.
 * The demo deletes the folder when it has written its outputs.
 */
final class RunCache {
    /** The folder in the output folder that holds the finished runs. */
    static final String FOLDER = "finished-runs";
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private record Done(String fingerprint, Run run) {}

    private final Path dir;
    private final String fingerprint;

    /** {@code organismDir}'s weights and recipe and {@code settings} make the fingerprint. */
    RunCache(Path out, Path organismDir, DemoSettings settings) {
        this.dir = out.resolve(FOLDER);
        this.fingerprint = Sha256.of(Sha256.of(organismDir.resolve("model.safetensors")) + "\n"
                + StudyFiles.readString(organismDir.resolve(dev.ivkit.organism.Organism.INFO_FILE)) + "\n" + GSON.toJson(settings));
    }

    private Path file(String variant, int seed) {
        return dir.resolve(variant + "-seed-" + seed + ".json");
    }

    /** The finished run of {@code variant} and {@code seed}, if an earlier attempt of the same fingerprint left one. */
    Optional<Run> get(String variant, int seed) {
        Path f = file(variant, seed);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            Done d = GSON.fromJson(StudyFiles.readString(f), Done.class);
            return d != null && fingerprint.equals(d.fingerprint()) && d.run() != null ? Optional.of(d.run()) : Optional.empty();
        } catch (JsonParseException e) {
            return Optional.empty();   // a file of an older layout: the run is trained again and the file replaced
        }
    }

    /** Keeps a finished run. */
    void put(String variant, int seed, Run run) {
        AtomicFiles.writeString(file(variant, seed), GSON.toJson(new Done(fingerprint, run)) + "\n");
    }
}
