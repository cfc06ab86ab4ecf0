# Options of the ivkit native build; Maven passes them from the parent pom (the one place for versions).
option(IVKIT_WITH_CUDA "Build the CUDA kernels (libivkit_cuda.so)" OFF)
set(IVKIT_CUDA_ARCHS "80;90" CACHE STRING "CUDA architectures (sm_80 = A100, sm_90 = H100/H200)")
set(IVKIT_LIB_OUT "${CMAKE_BINARY_DIR}/out" CACHE PATH "JavaCPP platform folder of the binding class")
set(IVKIT_VERSION "0.0.0-dev" CACHE STRING "Version string reported by ivkit_version()")
option(IVKIT_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" ON)
option(IVKIT_BUILD_TESTS "Build the Java-free native checks in native/test (CTest; docs/native-tests.md)" OFF)
