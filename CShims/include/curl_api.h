// Two libcurls behind one table of function pointers. The product links a static, HTTP-only
// libcurl (fast to start: no TLS library to load or initialise) for Unix sockets and plain tcp://;
// an engine reached over TLS uses the system's libcurl.so.4 (OpenSSL), loaded with dlopen only
// when such an engine is first used. Every libcurl call the Swift side makes goes through the
// table of its transport, so the two libraries' handles never meet.
#ifndef CSHIMS_CURL_API_H
#define CSHIMS_CURL_API_H

#include <stddef.h>
#include <curl/curl.h>

#pragma clang assume_nonnull begin

/// The libcurl functions ccorc calls, as pointers into one library.
typedef struct cshims_curl_api {
    CURLcode (*_Nonnull global_init)(long flags);
    curl_version_info_data *_Nullable (*_Nonnull version_info)(CURLversion version);
    CURL *_Nullable (*_Nonnull easy_init)(void);
    void (*_Nonnull easy_cleanup)(CURL *handle);
    void (*_Nonnull easy_reset)(CURL *handle);
    CURLcode (*_Nonnull easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*_Nonnull easy_perform)(CURL *handle);
    CURLcode (*_Nonnull easy_getinfo)(CURL *handle, CURLINFO info, ...);
    CURLcode (*_Nonnull easy_send)(CURL *handle, const void *buffer, size_t length, size_t *sent);
    CURLcode (*_Nonnull easy_recv)(CURL *handle, void *buffer, size_t length, size_t *received);
    CURLcode (*_Nonnull easy_pause)(CURL *handle, int bitmask);
    const char *_Nonnull (*_Nonnull easy_strerror)(CURLcode code);
    CURLM *_Nullable (*_Nonnull multi_init)(void);
    CURLMcode (*_Nonnull multi_cleanup)(CURLM *multi);
    CURLMcode (*_Nonnull multi_add_handle)(CURLM *multi, CURL *handle);
    CURLMcode (*_Nonnull multi_remove_handle)(CURLM *multi, CURL *handle);
    CURLMcode (*_Nonnull multi_perform)(CURLM *multi, int *running);
    CURLMcode (*_Nonnull multi_poll)(CURLM *multi, struct curl_waitfd *_Nullable extra,
                                     unsigned count, int timeout_ms, int *_Nullable numfds);
    CURLMcode (*_Nonnull multi_wakeup)(CURLM *multi);
    CURLMcode (*_Nonnull multi_setopt)(CURLM *multi, CURLMoption option, ...);
    CURLMsg *_Nullable (*_Nonnull multi_info_read)(CURLM *multi, int *remaining);
    struct curl_slist *_Nullable (*_Nonnull slist_append)(struct curl_slist *_Nullable list,
                                                 const char *string);
    void (*_Nonnull slist_free_all)(struct curl_slist *_Nullable list);
} cshims_curl_api;

/// The static libcurl linked into the product, initialised (curl_global_init) on first call.
/// Returns NULL when curl_global_init failed.
const cshims_curl_api *_Nullable cshims_curl_bundled(void);

/// The system's libcurl.so.4, loaded with dlopen(RTLD_LAZY | RTLD_LOCAL) and initialised once
/// (thread-safe) on the first call. Returns NULL when it cannot be loaded or initialised, or has
/// no TLS (CURL_VERSION_SSL), with the reason in `error` (always NUL-terminated).
const cshims_curl_api *_Nullable cshims_curl_system(char *error, size_t error_size);

/// curl_version_info(CURLVERSION_NOW)->version of the library behind `api` (never NULL).
const char *cshims_curl_version(const cshims_curl_api *api);
/// curl_version_info(CURLVERSION_NOW)->ssl_version of the library behind `api`; "" without TLS.
const char *cshims_curl_ssl_version(const cshims_curl_api *api);

// MARK: - The calls, one shim per libcurl function (Swift cannot call through a C function
// pointer held in an imported struct without unwrapping each one).

CURL *_Nullable cshims_curl_easy_init(const cshims_curl_api *api);
void cshims_curl_easy_cleanup(const cshims_curl_api *api, CURL *handle);
void cshims_curl_easy_reset(const cshims_curl_api *api, CURL *handle);
CURLcode cshims_curl_easy_perform(const cshims_curl_api *api, CURL *handle);
CURLcode cshims_curl_easy_send(const cshims_curl_api *api, CURL *handle, const void *buffer,
                               size_t length, size_t *sent);
CURLcode cshims_curl_easy_recv(const cshims_curl_api *api, CURL *handle, void *buffer,
                               size_t length, size_t *received);
CURLcode cshims_curl_easy_pause(const cshims_curl_api *api, CURL *handle, int bitmask);
const char *cshims_curl_easy_strerror(const cshims_curl_api *api, CURLcode code);
CURLM *_Nullable cshims_curl_multi_init(const cshims_curl_api *api);
CURLMcode cshims_curl_multi_cleanup(const cshims_curl_api *api, CURLM *multi);
CURLMcode cshims_curl_multi_add_handle(const cshims_curl_api *api, CURLM *multi, CURL *handle);
CURLMcode cshims_curl_multi_remove_handle(const cshims_curl_api *api, CURLM *multi, CURL *handle);
CURLMcode cshims_curl_multi_perform(const cshims_curl_api *api, CURLM *multi, int *running);
CURLMcode cshims_curl_multi_poll(const cshims_curl_api *api, CURLM *multi, int timeout_ms);
CURLMcode cshims_curl_multi_wakeup(const cshims_curl_api *api, CURLM *multi);
struct curl_slist *_Nullable cshims_curl_slist_append(const cshims_curl_api *api,
                                                      struct curl_slist *_Nullable list,
                                                      const char *string);
void cshims_curl_slist_free_all(const cshims_curl_api *api, struct curl_slist *_Nullable list);

#pragma clang assume_nonnull end

#endif
