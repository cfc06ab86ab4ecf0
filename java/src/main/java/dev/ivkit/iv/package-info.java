/**
 * Instruction vectors: mean head activations, the causal-indirect-effect head scan (exact, naive, attribution
 * patching), head ranking, the {@link dev.ivkit.iv.InstructionVector} itself, its evaluation and the knowledge
 * probe.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.iv;
