package dev.ivkit.iv;

/** How causal indirect effects are computed. */
public enum ScanMethod {
    /** One full forward per (layer, head): the reference (Todd et al.'s and the IV authors' procedure). */
    NAIVE,
    /** Prefix cached once; per layer, all heads as a batch on the suffix only, from that layer up. Exact. */
    EXACT,
    /** Attribution patching: a first-order estimate from 2 forwards + 1 backward per prompt. */
    ATP
}
