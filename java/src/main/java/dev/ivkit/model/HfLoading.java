package dev.ivkit.model;

import dev.ivkit.model.io.HfCheckpoint;
import java.nio.file.Path;

/** Hugging Face layout: a directory with config.json and (sharded) safetensors. */
final class HfLoading {
    private HfLoading() {}

    static Checkpoint read(Path path) {
        return HfCheckpoint.load(path);
    }
}
