package dev.ivkit.kernels;

import org.bytedeco.pytorch.Tensor;

/**
 * Output of {@link Kernels#topkLogprobs}, one entry of the reference cache per logits row: {@code ids} int32 [rows, k]
 * (the k most likely tokens at temperature T, by descending probability), {@code logp} float32 [rows, k] (their
 * log-probabilities) and {@code logRest} float32 [rows] (the log of the other tokens' probability mass). They are the
 * {@code ids}, {@code logq} and {@code logRest} arguments of {@link Kernels#klTopkRows}.
 *
 * @param ids     int32 [rows, k]
 * @param logp    float32 [rows, k]
 * @param logRest float32 [rows]
 */
public record TopkLogprobs(Tensor ids, Tensor logp, Tensor logRest) {}
