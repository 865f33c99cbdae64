// C shims for ccorc.
//
// Swift cannot call C variadic functions (curl_easy_setopt, curl_easy_getinfo, curl_multi_setopt)
// nor the function-like macros jansson uses for reference counting and type tests. Each shim here
// wraps exactly one such call with a fixed signature, split by argument type where the C function
// is variadic, so that the Swift side stays type-checked. Every pointer carries its nullability.
#ifndef CSHIMS_H
#define CSHIMS_H

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>

#include "json_projection.h"

#pragma clang assume_nonnull begin

// MARK: - libcurl: easy handles

/// curl_easy_setopt for options that take a long.
CURLcode cshims_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
/// curl_easy_setopt for options that take a curl_off_t.
CURLcode cshims_curl_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
/// curl_easy_setopt for options that take a string or data pointer (NULL clears the option).
CURLcode cshims_curl_easy_setopt_ptr(CURL *handle, CURLoption option, const void *_Nullable value);
/// curl_easy_setopt for CURLOPT_HTTPHEADER (NULL clears the list).
CURLcode cshims_curl_easy_setopt_slist(CURL *handle, CURLoption option,
                                       struct curl_slist *_Nullable list);

/// The signature of libcurl's write and header callbacks.
typedef size_t (*cshims_curl_data_cb)(char *_Nullable data, size_t size, size_t count,
                                      void *_Nullable userdata);

/// Sets CURLOPT_WRITEFUNCTION and CURLOPT_WRITEDATA together.
CURLcode cshims_curl_easy_setopt_write_cb(CURL *handle, cshims_curl_data_cb _Nullable callback,
                                          void *_Nullable userdata);
/// Sets CURLOPT_HEADERFUNCTION and CURLOPT_HEADERDATA together.
CURLcode cshims_curl_easy_setopt_header_cb(CURL *handle, cshims_curl_data_cb _Nullable callback,
                                           void *_Nullable userdata);

/// Sets CURLOPT_READFUNCTION and CURLOPT_READDATA together: a request body that libcurl pulls
/// while it uploads (a tar made as it is sent), instead of one held whole in CURLOPT_POSTFIELDS.
/// The callback has the write callback's signature; it returns CURL_READFUNC_PAUSE to wait for
/// data and CURL_READFUNC_ABORT to fail the transfer.
CURLcode cshims_curl_easy_setopt_read_cb(CURL *handle, cshims_curl_data_cb _Nullable callback,
                                         void *_Nullable userdata);

/// curl_easy_getinfo for long results (CURLINFO_RESPONSE_CODE, ...).
CURLcode cshims_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *out);
/// curl_easy_getinfo for CURLINFO_ACTIVESOCKET.
CURLcode cshims_curl_easy_getinfo_socket(CURL *handle, curl_socket_t *out);
/// curl_easy_getinfo for CURLINFO_PRIVATE.
CURLcode cshims_curl_easy_getinfo_private(CURL *handle, void *_Nullable *_Nonnull out);

// MARK: - libcurl: multi handles

/// curl_multi_setopt for options that take a long.
CURLMcode cshims_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
/// Reads the next finished transfer from curl_multi_info_read.
/// Returns 1 and fills easy/result when a transfer finished, 0 when none is left.
int cshims_curl_multi_next_done(CURLM *multi, CURL *_Nullable *_Nonnull easy, CURLcode *result);

// MARK: - Sockets

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

// MARK: - jansson

/// The type of a JSON node (json_typeof is a macro).
json_type cshims_json_typeof(const json_t *json);
/// json_decref is an inline function over a macro-managed count.
void cshims_json_decref(json_t *_Nullable json);
/// Parses a buffer; on failure returns NULL and copies jansson's message into error_text.
json_t *_Nullable cshims_json_loadb(const char *buffer, size_t length, char *error_text,
                                    size_t error_capacity);
/// The key of an object iterator (json_object_iter_key returns a const char *).
const char *cshims_json_object_iter_key(void *iter);
/// The length of a string node, which may hold NUL bytes.
size_t cshims_json_string_length(const json_t *json);
/// The bytes of a string node.
const char *cshims_json_string_value(const json_t *json);
/// The value of an integer node.
long long cshims_json_integer_value(const json_t *json);

#pragma clang assume_nonnull end

#endif

// MARK: - SQLite
//
// Appended after the include guard above, so it carries its own. Only what Swift cannot call
// well is shimmed: SQLITE_TRANSIENT is a macro that casts -1 to a function pointer, which Swift
// cannot express, and binding text with SQLITE_STATIC would require the Swift string to outlive
// the statement's execution. Everything else in sqlite3.h is called directly.
#ifndef CSHIMS_SQLITE_SECTION
#define CSHIMS_SQLITE_SECTION

/// sqlite3_bind_text with SQLITE_TRANSIENT, so SQLite copies the bytes before returning.
/// `length` is the byte count (the text may hold NUL bytes); returns SQLite's result code.
int cshims_sqlite3_bind_text(sqlite3_stmt *_Nonnull statement, int index,
                             const char *_Nonnull text, int length);

#endif
