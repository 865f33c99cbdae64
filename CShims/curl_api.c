// The two libcurl tables declared in include/curl_api.h: the static library's, filled at compile
// time, and the system library's, filled by dlsym once. Each shim below is a single call.
#include "curl_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const cshims_curl_api bundled_api = {
    .global_init = curl_global_init,
    .version_info = curl_version_info,
    .easy_init = curl_easy_init,
    .easy_cleanup = curl_easy_cleanup,
    .easy_reset = curl_easy_reset,
    .easy_setopt = curl_easy_setopt,
    .easy_perform = curl_easy_perform,
    .easy_getinfo = curl_easy_getinfo,
    .easy_send = curl_easy_send,
    .easy_recv = curl_easy_recv,
    .easy_pause = curl_easy_pause,
    .easy_strerror = curl_easy_strerror,
    .multi_init = curl_multi_init,
    .multi_cleanup = curl_multi_cleanup,
    .multi_add_handle = curl_multi_add_handle,
    .multi_remove_handle = curl_multi_remove_handle,
    .multi_perform = curl_multi_perform,
    .multi_poll = curl_multi_poll,
    .multi_wakeup = curl_multi_wakeup,
    .multi_setopt = curl_multi_setopt,
    .multi_info_read = curl_multi_info_read,
    .slist_append = curl_slist_append,
    .slist_free_all = curl_slist_free_all,
};

static pthread_once_t bundled_once = PTHREAD_ONCE_INIT;
static CURLcode bundled_result = CURLE_FAILED_INIT;

static void bundled_init(void) { bundled_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

const cshims_curl_api *cshims_curl_bundled(void) {
    pthread_once(&bundled_once, bundled_init);
    return bundled_result == CURLE_OK ? &bundled_api : NULL;
}

// Written once under pthread_once and only read afterwards: the loaded library's table, or the
// reason there is none.
static pthread_once_t system_once = PTHREAD_ONCE_INIT;
static cshims_curl_api system_api;
static int system_loaded = 0;
static char system_error[512];

#define CSHIMS_LOAD(field, name)                                                               \
    do {                                                                                       \
        void *symbol = dlsym(library, name);                                                   \
        if (symbol == NULL) {                                                                  \
            snprintf(system_error, sizeof system_error, "libcurl.so.4 has no %s", name);        \
            return;                                                                            \
        }                                                                                      \
        memcpy(&system_api.field, &symbol, sizeof symbol);                                     \
    } while (0)

static void system_init(void) {
    // RTLD_LOCAL: the loaded library's symbols must not satisfy anyone else's references, and the
    // static library's curl_* are not exported, so each library keeps calling its own functions.
    void *library = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(system_error, sizeof system_error, "%s", reason ? reason : "dlopen failed");
        return;
    }
    CSHIMS_LOAD(global_init, "curl_global_init");
    CSHIMS_LOAD(version_info, "curl_version_info");
    CSHIMS_LOAD(easy_init, "curl_easy_init");
    CSHIMS_LOAD(easy_cleanup, "curl_easy_cleanup");
    CSHIMS_LOAD(easy_reset, "curl_easy_reset");
    CSHIMS_LOAD(easy_setopt, "curl_easy_setopt");
    CSHIMS_LOAD(easy_perform, "curl_easy_perform");
    CSHIMS_LOAD(easy_getinfo, "curl_easy_getinfo");
    CSHIMS_LOAD(easy_send, "curl_easy_send");
    CSHIMS_LOAD(easy_recv, "curl_easy_recv");
    CSHIMS_LOAD(easy_pause, "curl_easy_pause");
    CSHIMS_LOAD(easy_strerror, "curl_easy_strerror");
    CSHIMS_LOAD(multi_init, "curl_multi_init");
    CSHIMS_LOAD(multi_cleanup, "curl_multi_cleanup");
    CSHIMS_LOAD(multi_add_handle, "curl_multi_add_handle");
    CSHIMS_LOAD(multi_remove_handle, "curl_multi_remove_handle");
    CSHIMS_LOAD(multi_perform, "curl_multi_perform");
    CSHIMS_LOAD(multi_poll, "curl_multi_poll");
    CSHIMS_LOAD(multi_wakeup, "curl_multi_wakeup");
    CSHIMS_LOAD(multi_setopt, "curl_multi_setopt");
    CSHIMS_LOAD(multi_info_read, "curl_multi_info_read");
    CSHIMS_LOAD(slist_append, "curl_slist_append");
    CSHIMS_LOAD(slist_free_all, "curl_slist_free_all");
    curl_version_info_data *info = system_api.version_info(CURLVERSION_NOW);
    if (info == NULL || (info->features & CURL_VERSION_SSL) == 0) {
        snprintf(system_error, sizeof system_error, "libcurl.so.4 (%s) was built without TLS",
                 info && info->version ? info->version : "unknown version");
        return;
    }
    CURLcode code = system_api.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(system_error, sizeof system_error, "curl_global_init of libcurl.so.4 failed: %s",
                 system_api.easy_strerror(code));
        return;
    }
    // The library stays loaded for the life of the process: handles made by it may live as long.
    system_loaded = 1;
}

#undef CSHIMS_LOAD

const cshims_curl_api *cshims_curl_system(char *error, size_t error_size) {
    pthread_once(&system_once, system_init);
    if (system_loaded) return &system_api;
    if (error_size > 0) snprintf(error, error_size, "%s", system_error);
    return NULL;
}

const char *cshims_curl_version(const cshims_curl_api *api) {
    curl_version_info_data *info = api->version_info(CURLVERSION_NOW);
    return info && info->version ? info->version : "";
}

const char *cshims_curl_ssl_version(const cshims_curl_api *api) {
    curl_version_info_data *info = api->version_info(CURLVERSION_NOW);
    return info && info->ssl_version ? info->ssl_version : "";
}

CURL *cshims_curl_easy_init(const cshims_curl_api *api) { return api->easy_init(); }

void cshims_curl_easy_cleanup(const cshims_curl_api *api, CURL *handle) {
    api->easy_cleanup(handle);
}

void cshims_curl_easy_reset(const cshims_curl_api *api, CURL *handle) { api->easy_reset(handle); }

CURLcode cshims_curl_easy_perform(const cshims_curl_api *api, CURL *handle) {
    return api->easy_perform(handle);
}

CURLcode cshims_curl_easy_send(const cshims_curl_api *api, CURL *handle, const void *buffer,
                               size_t length, size_t *sent) {
    return api->easy_send(handle, buffer, length, sent);
}

CURLcode cshims_curl_easy_recv(const cshims_curl_api *api, CURL *handle, void *buffer,
                               size_t length, size_t *received) {
    return api->easy_recv(handle, buffer, length, received);
}

CURLcode cshims_curl_easy_pause(const cshims_curl_api *api, CURL *handle, int bitmask) {
    return api->easy_pause(handle, bitmask);
}

const char *cshims_curl_easy_strerror(const cshims_curl_api *api, CURLcode code) {
    return api->easy_strerror(code);
}

CURLM *cshims_curl_multi_init(const cshims_curl_api *api) { return api->multi_init(); }

CURLMcode cshims_curl_multi_cleanup(const cshims_curl_api *api, CURLM *multi) {
    return api->multi_cleanup(multi);
}

CURLMcode cshims_curl_multi_add_handle(const cshims_curl_api *api, CURLM *multi, CURL *handle) {
    return api->multi_add_handle(multi, handle);
}

CURLMcode cshims_curl_multi_remove_handle(const cshims_curl_api *api, CURLM *multi,
                                          CURL *handle) {
    return api->multi_remove_handle(multi, handle);
}

CURLMcode cshims_curl_multi_perform(const cshims_curl_api *api, CURLM *multi, int *running) {
    return api->multi_perform(multi, running);
}

CURLMcode cshims_curl_multi_poll(const cshims_curl_api *api, CURLM *multi, int timeout_ms) {
    return api->multi_poll(multi, NULL, 0, timeout_ms, NULL);
}

CURLMcode cshims_curl_multi_wakeup(const cshims_curl_api *api, CURLM *multi) {
    return api->multi_wakeup(multi);
}

struct curl_slist *cshims_curl_slist_append(const cshims_curl_api *api, struct curl_slist *list,
                                            const char *string) {
    return api->slist_append(list, string);
}

void cshims_curl_slist_free_all(const cshims_curl_api *api, struct curl_slist *list) {
    api->slist_free_all(list);
}
