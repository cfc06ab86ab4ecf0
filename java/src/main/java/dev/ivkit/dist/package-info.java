/**
 * Data-parallel runs over libtorch's c10d: rendezvous and process groups, sharded IV extraction and
 * training, and the launcher of worker JVMs.
 *
 * <p><b>Internal:</b> not API. Its public types are public only for ivkit's other packages; they may change or go
 * away in any release. Library users import {@code dev.ivkit} and the other exported packages instead (README "API
 * and internal packages").
 */
package dev.ivkit.dist;
