/**
 * The {@code ivkit} command line (picocli): one class per subcommand and the options they share. The only
 * package that prints and sets exit codes.
 *
 * <p><b>Internal:</b> not API. Its public types are public only for ivkit's other packages; they may change or go
 * away in any release. Library users import {@code dev.ivkit} and the other exported packages instead (README "API
 * and internal packages").
 */
package dev.ivkit.cli;
