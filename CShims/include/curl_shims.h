// libcurl shims: curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which
// Swift cannot call, so each is wrapped once per argument type. Each takes the table of the
// libcurl that made the handle (see curl_api.h).
#ifndef CSHIMS_CURL_H
#define CSHIMS_CURL_H

#include <curl/curl.h>

#include "curl_api.h"

#pragma clang assume_nonnull begin

// MARK: - libcurl: easy handles

/// curl_easy_setopt for options that take a long.
CURLcode cshims_curl_easy_setopt_long(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                      long value);
/// curl_easy_setopt for options that take a curl_off_t.
CURLcode cshims_curl_easy_setopt_off(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                     curl_off_t value);
/// curl_easy_setopt for options that take a string or data pointer (NULL clears the option).
CURLcode cshims_curl_easy_setopt_ptr(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                     const void *_Nullable value);
/// curl_easy_setopt for CURLOPT_HTTPHEADER (NULL clears the list).
CURLcode cshims_curl_easy_setopt_slist(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                       struct curl_slist *_Nullable list);

/// The signature of libcurl's write and header callbacks.
typedef size_t (*cshims_curl_data_cb)(char *_Nullable data, size_t size, size_t count,
                                      void *_Nullable userdata);

/// Sets CURLOPT_WRITEFUNCTION and CURLOPT_WRITEDATA together.
CURLcode cshims_curl_easy_setopt_write_cb(const cshims_curl_api *api, CURL *handle,
                                          cshims_curl_data_cb _Nullable callback,
                                          void *_Nullable userdata);
/// Sets CURLOPT_HEADERFUNCTION and CURLOPT_HEADERDATA together.
CURLcode cshims_curl_easy_setopt_header_cb(const cshims_curl_api *api, CURL *handle,
                                           cshims_curl_data_cb _Nullable callback,
                                           void *_Nullable userdata);

/// Sets CURLOPT_READFUNCTION and CURLOPT_READDATA together: a request body that libcurl pulls
/// while it uploads (a tar made as it is sent), instead of one held whole in CURLOPT_POSTFIELDS.
/// The callback has the write callback's signature; it returns CURL_READFUNC_PAUSE to wait for
/// data and CURL_READFUNC_ABORT to fail the transfer.
CURLcode cshims_curl_easy_setopt_read_cb(const cshims_curl_api *api, CURL *handle,
                                         cshims_curl_data_cb _Nullable callback,
                                         void *_Nullable userdata);

/// curl_easy_getinfo for long results (CURLINFO_RESPONSE_CODE, ...).
CURLcode cshims_curl_easy_getinfo_long(const cshims_curl_api *api, CURL *handle, CURLINFO info,
                                       long *out);
/// curl_easy_getinfo for CURLINFO_ACTIVESOCKET.
CURLcode cshims_curl_easy_getinfo_socket(const cshims_curl_api *api, CURL *handle,
                                         curl_socket_t *out);
/// curl_easy_getinfo for CURLINFO_PRIVATE.
CURLcode cshims_curl_easy_getinfo_private(const cshims_curl_api *api, CURL *handle,
                                          void *_Nullable *_Nonnull out);

// MARK: - libcurl: multi handles

/// curl_multi_setopt for options that take a long.
CURLMcode cshims_curl_multi_setopt_long(const cshims_curl_api *api, CURLM *multi,
                                        CURLMoption option, long value);
/// Reads the next finished transfer from curl_multi_info_read.
/// Returns 1 and fills easy/result when a transfer finished, 0 when none is left.
int cshims_curl_multi_next_done(const cshims_curl_api *api, CURLM *multi,
                                CURL *_Nullable *_Nonnull easy, CURLcode *result);

#pragma clang assume_nonnull end

#endif
