/**
 * Hook plans for one forward pass: what it captures ({@link dev.ivkit.hooks.Capture}) and changes
 * ({@link dev.ivkit.hooks.HeadPatch}, {@link dev.ivkit.hooks.ResidualAdd}), at which
 * {@link dev.ivkit.hooks.HookSite} (TransformerLens names) and {@link dev.ivkit.hooks.Positions}.
 *
 * <p>API: exported (README "API and internal packages"); its public signatures mention only API types, the JDK,
 * libtorch's presets and Gson (checked by {@code ApiBoundaryTest}).
 */
package dev.ivkit.hooks;
