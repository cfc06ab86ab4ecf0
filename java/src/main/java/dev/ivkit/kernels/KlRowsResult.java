package dev.ivkit.kernels;

import org.bytedeco.pytorch.Tensor;

/**
 * Output of {@link Kernels#klRows}: {@code loss} [rows] float32 (per-row weighted KL) and {@code grad}, shaped like the
 * current logits, {@code d loss[r] / d current[r, :]}, or null when no gradient was requested.
 */
public record KlRowsResult(Tensor loss, Tensor grad) {}
