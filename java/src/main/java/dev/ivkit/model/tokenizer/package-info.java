/**
 * Tokenizers: {@link dev.ivkit.model.tokenizer.Tokenizer} and its llama2.c, Hugging Face
 * {@code tokenizer.json} and character-level implementations, plus streaming decoders that turn generated ids into
 * complete characters.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.model.tokenizer;
