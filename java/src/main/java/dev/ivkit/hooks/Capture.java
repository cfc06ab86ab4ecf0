package dev.ivkit.hooks;

/**
 * Read an activation at a site. With positions resolving to one per row the captured tensor is
 * [batch, ...site dims without pos] (e.g. hook_z → [batch, head, d_head]); with {@link Positions#all()} it keeps
 * the site's full shape. With an {@code accumulator} nothing is kept per example: the selected rows are summed into
 * it in float32 (see {@link MeanAccumulator}).
 */
public record Capture(HookSite site, Positions positions, MeanAccumulator accumulator) {}
