/**
 * The files of a continual study's output folder: {@code results.json} (read and written by
 * {@link dev.ivkit.results.ResultsFile}), mean and spread over seeds, and the folder's other files.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.results;
