/**
 * Task data: loaders of the IV/FV papers' JSON task files into a {@link dev.ivkit.data.TaskDataset} of
 * {@link dev.ivkit.data.TaskExample}s, train/valid/test splits, and {@link dev.ivkit.data.DataFormatException} naming
 * the file and record of bad input.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.data;
