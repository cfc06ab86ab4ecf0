package dev.ivkit.model;

/** Which positions the language-model head is applied to. */
public enum LogitsMode {
    /** [batch, pos, vocab] */
    ALL,
    /** [batch, vocab] at the last position (what generation needs) */
    LAST,
    /** no logits (captures only) */
    NONE
}
