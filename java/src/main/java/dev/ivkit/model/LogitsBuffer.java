package dev.ivkit.model;

/**
 * Where a forward writes its logits. The contract of {@link #WORKSPACE}: the returned logits are a view of the model's
 * reusable logits workspace, valid until the next {@code WORKSPACE} forward of the same {@link LlamaModel} instance
 * (a replica has its own workspace); read them, or copy out what you keep, before that call. Nothing else touches the
 * workspace: {@link #FRESH} forwards, captures (a plan that captures {@code hook_logits} gets fresh logits) and
 * forwards that need a gradient (grad mode on and the lm_head input or weight requiring grad: training allocates as
 * always) never write into it.
 */
public enum LogitsBuffer {
    /** A new tensor per call (the default): the caller may keep it as long as its scope lives. */
    FRESH,
    /**
     * The model's workspace, overwritten by its next {@code WORKSPACE} forward; for results consumed at once (scores,
     * argmax, sampling). Falls back to a fresh tensor when a gradient is needed, when the plan captures the logits,
     * on the meta device, and when the logits exceed the workspace's cap (256 MiB).
     */
    WORKSPACE
}
