/**
 * Scores: exact match, token F1, ROUGE-L and ranks (the IV/FV papers' metrics), multiple-choice
 * evaluation by log-likelihood, and continual-learning forgetting metrics.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.eval;
