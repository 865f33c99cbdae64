// The system call shims declared in include/system_shims.h.
#define _GNU_SOURCE
#include "system_shims.h"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

int cshims_wait_socket(int fd, int want_read, int want_write, int timeout_ms, int *ready) {
    struct pollfd entry = {.fd = fd, .events = 0, .revents = 0};
    if (want_read) entry.events |= POLLIN;
    if (want_write) entry.events |= POLLOUT;
    int result = poll(&entry, 1, timeout_ms);
    *ready = 0;
    if (result > 0) {
        if (entry.revents & POLLIN) *ready |= 1;
        if (entry.revents & POLLOUT) *ready |= 2;
        if (entry.revents & (POLLHUP | POLLERR | POLLNVAL)) *ready |= 4;
    }
    return result;
}

static int cshims_ready_bits(short revents) {
    int bits = 0;
    if (revents & POLLIN) bits |= 1;
    if (revents & POLLOUT) bits |= 2;
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) bits |= 4;
    return bits;
}

static short cshims_poll_events(int want) {
    short events = 0;
    if (want & 1) events |= POLLIN;
    if (want & 2) events |= POLLOUT;
    return events;
}

int cshims_wait_two(int fd_a, int want_a, int fd_b, int want_b, int timeout_ms, int *ready_a,
                    int *ready_b) {
    struct pollfd entries[2] = {{.fd = fd_a, .events = cshims_poll_events(want_a), .revents = 0},
                                {.fd = fd_b, .events = cshims_poll_events(want_b), .revents = 0}};
    int result = poll(entries, 2, timeout_ms);
    *ready_a = result > 0 ? cshims_ready_bits(entries[0].revents) : 0;
    *ready_b = result > 0 ? cshims_ready_bits(entries[1].revents) : 0;
    return result;
}

int cshims_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int cshims_shutdown_write(int fd) { return shutdown(fd, SHUT_WR); }

int cshims_set_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }

