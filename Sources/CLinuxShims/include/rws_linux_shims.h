/* Linux and glibc calls Swift's Glibc module does not expose (sys/eventfd.h, memmem). Internal to the library. */
#ifndef RWS_LINUX_SHIMS_H
#define RWS_LINUX_SHIMS_H

#include <stddef.h>
#include <stdint.h>

/* eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC): the fd, or -1 with errno set. */
int rws_system_eventfd(void);
/* Adds 1 to the counter (the fd becomes readable). 0, or -1 with errno set. */
int rws_system_eventfd_signal(int fd);
/* Reads the counter back to 0 (the fd stops being readable). 0, or -1 with errno set
 * (EAGAIN when it was already 0). */
int rws_system_eventfd_reset(int fd);

/* Whether `needle` occurs in `haystack` (glibc's memmem, which needs _GNU_SOURCE). */
int rws_system_contains(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
