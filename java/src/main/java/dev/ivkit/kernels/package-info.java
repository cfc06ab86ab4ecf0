/**
 * ivkit's native kernels (C++/CUDA behind the C ABI of {@code native/include/ivkit/ivkit.h}):
 * {@link dev.ivkit.kernels.Kernels} validates tensors and dispatches to the CPU or CUDA library; the JavaCPP peers and
 * the status codes are package-private. Also BLAS thread control and a per-core job runner.
 *
 * <p><b>Internal:</b> not API. Its public types are public only for ivkit's other packages; they may change or go
 * away in any release. Library users import {@code dev.ivkit} and the other exported packages instead (README "API
 * and internal packages").
 */
package dev.ivkit.kernels;
