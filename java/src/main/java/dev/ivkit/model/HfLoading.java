package dev.ivkit.model;

import dev.ivkit.UnsupportedException;
import java.nio.file.Path;

/** Bridge to the Hugging Face loader (filled in when dev.ivkit.model.io.HfCheckpoint lands). */
final class HfLoading {
    private HfLoading() {}

    static Checkpoint read(Path path) {
        throw new UnsupportedException("Hugging Face checkpoints are not supported yet: " + path);
    }
}
