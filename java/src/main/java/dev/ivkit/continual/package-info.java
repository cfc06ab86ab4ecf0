/**
 * {@code ivkit continual}: continual instruction tuning studies (task sequences, methods such as EWC, O-LoRA,
 * replay and IV guidance, seeds) and their measurements.
 *
 * <p><b>Internal:</b> not API. Its public types are public only for ivkit's other packages; they may change or go
 * away in any release. Library users import {@code dev.ivkit} and the other exported packages instead (README "API
 * and internal packages").
 */
package dev.ivkit.continual;
