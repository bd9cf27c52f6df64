#define _GNU_SOURCE
#include "rws_linux_shims.h"

#include <string.h>

int rws_system_contains(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len) != NULL;
}
