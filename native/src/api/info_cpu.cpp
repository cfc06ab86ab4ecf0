// Library identity, error text and the no-op call of the CPU library.
#include "core/status.h"

#ifndef IVKIT_VERSION_STRING
#define IVKIT_VERSION_STRING "0.0.0-dev"
#endif

extern "C" IVKIT_API const char* ivkit_version(void) { return IVKIT_VERSION_STRING; }
extern "C" IVKIT_API const char* ivkit_last_error(void) { return ivkit::last_error(); }
extern "C" IVKIT_API ivkit_status_t ivkit_noop(void) { return IVKIT_OK; }
