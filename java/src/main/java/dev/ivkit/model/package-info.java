/**
 * Llama-family decoders over libtorch: loading ({@link dev.ivkit.model.ModelLoader}), the forward pass with hook plans
 * ({@link dev.ivkit.model.LlamaModel}, {@link dev.ivkit.model.RunResult}), generation with a KV cache, LoRA adapters,
 * rotary embeddings and the model's configuration and fingerprint.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.model;
