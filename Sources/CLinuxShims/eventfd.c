#include "rws_linux_shims.h"

#include <sys/eventfd.h>

int rws_system_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int rws_system_eventfd_signal(int fd) { return eventfd_write(fd, 1); }

int rws_system_eventfd_reset(int fd) {
    eventfd_t value;
    return eventfd_read(fd, &value);
}
