/**
 * In-context-learning prompts built as Todd et al. build them: styles, demonstrations and query
 * ({@link dev.ivkit.data.prompt.PromptBuilder}), and their token ids.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.data.prompt;
