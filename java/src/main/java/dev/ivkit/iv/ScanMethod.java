package dev.ivkit.iv;

/** How causal indirect effects are computed. */
public enum ScanMethod {
    /** One full forward per (layer, head): the reference (Todd et al.'s and the IV authors' procedure). */
    NAIVE,
    /** Prefix cached once; the suffix layer by layer as one batch that gains each layer's patched heads there. Exact. */
    EXACT,
    /** Attribution patching: a first-order estimate from 2 forwards + 1 backward per prompt. */
    ATP
}
