package dev.ivkit.train;

/** Which KL between the current model's distribution p and the reference's q. */
public enum KlDirection {
    /** KL(p ‖ q): the IV authors' {@code F.kl_div(log q, p)} (mode-seeking in p). */
    REVERSE,
    /** KL(q ‖ p): the usual distillation direction. */
    FORWARD
}
