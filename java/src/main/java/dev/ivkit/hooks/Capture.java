package dev.ivkit.hooks;

/**
 * Read an activation at a site. With positions resolving to one per row the captured tensor is
 * [batch, ...site dims without pos] (e.g. hook_z → [batch, head, d_head]); with {@link Positions#all()} it keeps
 * the site's full shape.
 */
public record Capture(HookSite site, Positions positions) {}
