/**
 * The steps the CLI and the {@code dev.ivkit} facade share: opening a model with its tokenizer, loading and
 * splitting a task, sampling a scan's prompts.
 *
 * <p><b>Internal:</b> not API. Its public types are public only for ivkit's other packages; they may change or go
 * away in any release. Library users import {@code dev.ivkit} and the other exported packages instead (README "API
 * and internal packages").
 */
package dev.ivkit.pipeline;
