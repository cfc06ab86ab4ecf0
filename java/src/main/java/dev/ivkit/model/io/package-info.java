/**
 * Checkpoint files: llama2.c {@code .bin} files (both versions), Hugging Face {@code config.json} and
 * safetensors (single and sharded), read with errors that name the file and tensor, and written atomically.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.model.io;
