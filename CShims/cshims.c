// Implementations of the shims declared in include/cshims.h. Each one is a single call.
#define _GNU_SOURCE
#include "cshims.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

// MARK: - libcurl

CURLcode cshims_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cshims_curl_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cshims_curl_easy_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cshims_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(handle, option, list);
}

CURLcode cshims_curl_easy_setopt_write_cb(CURL *handle, cshims_curl_data_cb callback,
                                          void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_WRITEDATA, userdata);
}

CURLcode cshims_curl_easy_setopt_header_cb(CURL *handle, cshims_curl_data_cb callback,
                                           void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_HEADERDATA, userdata);
}

CURLcode cshims_curl_easy_setopt_read_cb(CURL *handle, cshims_curl_data_cb callback,
                                         void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_READDATA, userdata);
}

CURLcode cshims_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *out) {
    return curl_easy_getinfo(handle, info, out);
}

CURLcode cshims_curl_easy_getinfo_socket(CURL *handle, curl_socket_t *out) {
    return curl_easy_getinfo(handle, CURLINFO_ACTIVESOCKET, out);
}

CURLcode cshims_curl_easy_getinfo_private(CURL *handle, void **out) {
    return curl_easy_getinfo(handle, CURLINFO_PRIVATE, out);
}

CURLMcode cshims_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

int cshims_curl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result) {
    int remaining = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &remaining)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *easy = message->easy_handle;
            *result = message->data.result;
            return 1;
        }
    }
    return 0;
}

// MARK: - Sockets

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

// MARK: - jansson

json_type cshims_json_typeof(const json_t *json) { return json_typeof(json); }

void cshims_json_decref(json_t *json) { json_decref(json); }

json_t *cshims_json_loadb(const char *buffer, size_t length, char *error_text,
                          size_t error_capacity) {
    json_error_t error;
    json_t *root = json_loadb(buffer, length, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (root == NULL && error_capacity > 0) {
        snprintf(error_text, error_capacity, "%s at line %d, column %d", error.text, error.line,
                 error.column);
    }
    return root;
}

const char *cshims_json_object_iter_key(void *iter) { return json_object_iter_key(iter); }

size_t cshims_json_string_length(const json_t *json) { return json_string_length(json); }

const char *cshims_json_string_value(const json_t *json) {
    const char *value = json_string_value(json);
    return value ? value : "";
}

long long cshims_json_integer_value(const json_t *json) {
    return (long long)json_integer_value(json);
}
