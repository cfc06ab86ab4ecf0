/**
 * The library's facade: {@link dev.ivkit.Ivkit#open} gives an {@link dev.ivkit.IvkitModel} that extracts a task's
 * instruction vector and fine-tunes with LoRA, plain or IV-guided, configured by {@link dev.ivkit.ExtractOptions} and
 * {@link dev.ivkit.TrainOptions}, reporting to a {@link dev.ivkit.ProgressListener} and stopped by a
 * {@link dev.ivkit.CancellationToken}. Also the exceptions every package throws ({@link dev.ivkit.IvkitException} and
 * its subclasses) and the small enums shared across packages.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit;
