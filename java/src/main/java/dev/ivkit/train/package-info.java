/**
 * LoRA fine-tuning: the {@link dev.ivkit.train.Trainer} with AdamW, learning-rate schedules, checkpoints
 * and resume, the {@link dev.ivkit.train.Regulariser} contract and the IV-guided regulariser, and the data-parallel
 * contract ({@link dev.ivkit.train.GradientSync}, {@link dev.ivkit.train.DataShard}).
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.train;
