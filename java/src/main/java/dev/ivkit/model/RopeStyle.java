package dev.ivkit.model;

/**
 * How rotary embeddings pair the dimensions of a head.
 * <ul>
 *   <li>{@link #INTERLEAVED}: pairs (0,1), (2,3), ... as in Meta's reference code and llama2.c.</li>
 *   <li>{@link #HALF}: pairs (i, i + d_head/2) ("rotate_half"), as in Hugging Face checkpoints, whose q/k
 *       projection rows are permuted at conversion so both give the same model.</li>
 * </ul>
 */
public enum RopeStyle {
    /** Adjacent pairs (0,1), (2,3), ...: Meta's reference code and llama2.c. */
    INTERLEAVED,
    /** Pairs (i, i + d_head/2): Hugging Face's rotate_half. */
    HALF
}
