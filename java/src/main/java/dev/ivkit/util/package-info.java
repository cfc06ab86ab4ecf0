/**
 * Small helpers: libtorch loading and tensor conversions, atomic file writes, stderr progress bars.
 *
 * <p><b>Internal:</b> not API. Its public types are public only for ivkit's other packages; they may change or go
 * away in any release. Library users import {@code dev.ivkit} and the other exported packages instead (README "API
 * and internal packages").
 */
package dev.ivkit.util;
