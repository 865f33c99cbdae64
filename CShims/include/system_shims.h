// System call shims: poll(2) over one or two descriptors, and the GNU extensions (closefrom for
// posix_spawn, thread names) that Glibc's Swift overlay hides.
#ifndef CSHIMS_SYSTEM_H
#define CSHIMS_SYSTEM_H

#include <spawn.h>
#include <sys/types.h>

#pragma clang assume_nonnull begin

// MARK: - Sockets and processes

/// Waits for the socket to become readable and/or writable; returns poll(2)'s result and the
/// revents bits in *ready (1 = readable, 2 = writable, 4 = hang-up or error).
int cshims_wait_socket(int fd, int want_read, int want_write, int timeout_ms, int *ready);
/// Waits on two descriptors at once (a terminal and a socket). want_a and want_b say what to wait
/// for (1 = readable, 2 = writable); returns poll(2)'s result and the readiness bits of each in
/// *ready_a and *ready_b as for cshims_wait_socket. A descriptor of -1 is ignored.
int cshims_wait_two(int fd_a, int want_a, int fd_b, int want_b, int timeout_ms, int *ready_a,
                    int *ready_b);
/// posix_spawn_file_actions_addclosefrom_np(actions, lowest): a spawned child closes every
/// descriptor from `lowest` up, so that one the caller inherited without close-on-exec (a parent's
/// pipe) cannot be kept open by a daemon the child starts. A GNU extension, hidden from Swift.
int cshims_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);
/// shutdown(fd, SHUT_WR): half-closes the write side (stdin of a remote process).
int cshims_shutdown_write(int fd);
/// pthread_setname_np(pthread_self(), name): names the calling thread (at most 15 bytes; a longer
/// name is refused with ERANGE). A GNU extension, hidden from Swift.
int cshims_set_thread_name(const char *_Nonnull name);

#pragma clang assume_nonnull end

#endif
