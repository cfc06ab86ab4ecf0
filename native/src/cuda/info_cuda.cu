// Library identity, error text and device count of the CUDA library.
#include "cuda/cuda_common.cuh"

#ifndef IVKIT_VERSION_STRING
#define IVKIT_VERSION_STRING "0.0.0-dev"
#endif

extern "C" IVKIT_API const char* ivkit_cuda_version(void) { return IVKIT_VERSION_STRING; }
extern "C" IVKIT_API const char* ivkit_cuda_last_error(void) { return ivkit::last_error(); }
extern "C" IVKIT_API int32_t ivkit_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}
