/**
 * {@code ivkit demo}: the IV study end to end on the model organism (docs/demo.md).
 *
 * <p><b>Internal:</b> not API. Its public types are public only for ivkit's other packages; they may change or go
 * away in any release. Library users import {@code dev.ivkit} and the other exported packages instead (README "API
 * and internal packages").
 */
package dev.ivkit.demo;
