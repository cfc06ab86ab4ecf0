#include "core/status.h"

#include <cstdio>

namespace ivkit {
namespace {
thread_local char g_message[1024] = {0};
}

void set_error(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(g_message, sizeof g_message, fmt, ap);
    va_end(ap);
}

void clear_error() { g_message[0] = '\0'; }

const char* last_error() { return g_message; }

std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return std::string(buf);
}

}  // namespace ivkit
