// CUDA helpers: error checks that throw ivkit::CudaError (turned into IVKIT_ERR_CUDA by guarded()).
#pragma once
#include <cuda_runtime.h>

#include "core/status.h"

#define IVKIT_CUDA_CHECK(expr)                                                                    \
    do {                                                                                          \
        cudaError_t err_ = (expr);                                                                \
        if (err_ != cudaSuccess) {                                                                \
            cudaGetLastError();                                                                   \
            throw ::ivkit::CudaError(::ivkit::format("%s: %s", #expr, cudaGetErrorString(err_))); \
        }                                                                                         \
    } while (0)

// After a launch: report a launch failure from the op that launched it.
#define IVKIT_CUDA_CHECK_LAUNCH(op) IVKIT_CUDA_CHECK(cudaGetLastError())
