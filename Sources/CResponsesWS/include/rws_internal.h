/* Private to the library: helpers the Swift exports call. Not installed, not exported
 * (the version script exports only rws_*; these are rwsi_*). */
#ifndef RWS_INTERNAL_H
#define RWS_INTERNAL_H
#include <stddef.h>

/* Stores the thread-local detail message returned by rws_last_error() (truncated to 1 KiB). */
void rwsi_set_last_error(const char *message, size_t len);

#endif
