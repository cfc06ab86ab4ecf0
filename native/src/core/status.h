// Thread-local error message and the guard that turns C++ exceptions into status codes.
// Every extern "C" entry point runs its body inside ivkit::guarded(); nothing throws across the ABI.
#pragma once
#include <cstdarg>
#include <new>
#include <stdexcept>
#include <string>
#include "ivkit/ivkit.h"

namespace ivkit {

// Writes the message of the current thread's last failure.
void set_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void clear_error();
const char* last_error();

// An argument failed validation; carries IVKIT_ERR_INVALID_ARGUMENT.
struct InvalidArgument : std::runtime_error { using std::runtime_error::runtime_error; };
// A CUDA runtime call failed.
struct CudaError : std::runtime_error { using std::runtime_error::runtime_error; };
// The request is valid but this build cannot serve it.
struct Unsupported : std::runtime_error { using std::runtime_error::runtime_error; };

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

template <class F>
ivkit_status_t guarded(F&& body) noexcept {
    try {
        clear_error();
        body();
        return IVKIT_OK;
    } catch (const InvalidArgument& e) {
        set_error("%s", e.what());
        return IVKIT_ERR_INVALID_ARGUMENT;
    } catch (const CudaError& e) {
        set_error("%s", e.what());
        return IVKIT_ERR_CUDA;
    } catch (const Unsupported& e) {
        set_error("%s", e.what());
        return IVKIT_ERR_UNSUPPORTED;
    } catch (const std::bad_alloc&) {
        set_error("out of memory");
        return IVKIT_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_error("internal error: %s", e.what());
        return IVKIT_ERR_INTERNAL;
    } catch (...) {
        set_error("internal error: unknown exception");
        return IVKIT_ERR_INTERNAL;
    }
}

// IVKIT_CHECK(cond, fmt, ...): throw InvalidArgument with a formatted message when cond is false.
#define IVKIT_CHECK(cond, ...)                                          \
    do {                                                                \
        if (!(cond)) throw ::ivkit::InvalidArgument(::ivkit::format(__VA_ARGS__)); \
    } while (0)

}  // namespace ivkit
