package dev.ivkit;

/** How a head patch combines with the head's output: overwrite it (Todd et al.) or add to it (the IV authors' code). */
public enum PatchMode {
    /** The patch overwrites the head's output (Todd et al.). */
    REPLACE,
    /** The patch is added to the head's output (the IV authors' code). */
    ADD
}
