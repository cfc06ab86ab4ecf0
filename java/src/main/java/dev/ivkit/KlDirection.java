package dev.ivkit;

/**
 * Direction of {@link dev.ivkit.kernels.Kernels#klRows}, with {@code p_cur = softmax(current / T)} and {@code p_ref = softmax(reference / T)}.
 */
public enum KlDirection {
    /** {@code KL(p_ref || p_cur)}: distillation (the reference is the target). */
    FORWARD,
    /**
     * {@code KL(p_cur || p_ref)}: the IV authors' {@code F.kl_div(log_softmax(ref / T), softmax(cur / T))}
     * (method-spec.md §4.2).
     */
    REVERSE
}
