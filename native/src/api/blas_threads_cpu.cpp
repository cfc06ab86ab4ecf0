// Thread count of the BLAS libtorch calls (OpenBLAS), changed at run time: OPENBLAS_NUM_THREADS is read only when
// the library loads, but a trainer that runs one single-threaded shard per core must turn BLAS threading off while
// it does (two shards x two BLAS threads on two cores oversubscribe). The library is found among the loaded ones.
#include <dlfcn.h>

#include "core/status.h"

namespace {

using set_fn = void (*)(int);
using get_fn = int (*)(void);

// The loaded OpenBLAS: the global namespace first, then the names the JavaCPP presets and distributions use.
void* blas_symbol(const char* name) {
    if (void* f = dlsym(RTLD_DEFAULT, name)) {
        return f;
    }
    static const char* const libs[] = {"libopenblas_nolapack.so.0", "libopenblas.so.0", "libopenblas.so",
                                       "libopenblas_nolapack.so"};
    for (const char* lib : libs) {
        void* h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
        if (h != nullptr) {
            void* f = dlsym(h, name);
            dlclose(h);  // NOLOAD handle: only drops the reference it added
            if (f != nullptr) {
                return f;
            }
        }
    }
    return nullptr;
}

}  // namespace

extern "C" IVKIT_API int ivkit_blas_get_threads(void) {
    auto get = reinterpret_cast<get_fn>(blas_symbol("openblas_get_num_threads"));
    return get == nullptr ? -1 : get();
}

extern "C" IVKIT_API int ivkit_blas_set_threads(int n) {
    auto set = reinterpret_cast<set_fn>(blas_symbol("openblas_set_num_threads"));
    auto get = reinterpret_cast<get_fn>(blas_symbol("openblas_get_num_threads"));
    if (set == nullptr || get == nullptr || n < 1) {
        return -1;
    }
    int before = get();
    set(n);
    return before;
}
