package dev.ivkit;

/** How a head patch combines with the head's output: overwrite it (Todd et al.) or add to it (the IV authors' code). */
public enum PatchMode {
    REPLACE, ADD
}
