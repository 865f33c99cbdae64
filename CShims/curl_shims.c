// The libcurl shims declared in include/curl_shims.h. Each one is a single call.
#include "curl_shims.h"

CURLcode cshims_curl_easy_setopt_long(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                      long value) {
    return api->easy_setopt(handle, option, value);
}

CURLcode cshims_curl_easy_setopt_off(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                     curl_off_t value) {
    return api->easy_setopt(handle, option, value);
}

CURLcode cshims_curl_easy_setopt_ptr(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                     const void *value) {
    return api->easy_setopt(handle, option, value);
}

CURLcode cshims_curl_easy_setopt_slist(const cshims_curl_api *api, CURL *handle, CURLoption option,
                                       struct curl_slist *list) {
    return api->easy_setopt(handle, option, list);
}

CURLcode cshims_curl_easy_setopt_write_cb(const cshims_curl_api *api, CURL *handle,
                                          cshims_curl_data_cb callback, void *userdata) {
    CURLcode code = api->easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return api->easy_setopt(handle, CURLOPT_WRITEDATA, userdata);
}

CURLcode cshims_curl_easy_setopt_header_cb(const cshims_curl_api *api, CURL *handle,
                                           cshims_curl_data_cb callback, void *userdata) {
    CURLcode code = api->easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return api->easy_setopt(handle, CURLOPT_HEADERDATA, userdata);
}

CURLcode cshims_curl_easy_setopt_read_cb(const cshims_curl_api *api, CURL *handle,
                                         cshims_curl_data_cb callback, void *userdata) {
    CURLcode code = api->easy_setopt(handle, CURLOPT_READFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return api->easy_setopt(handle, CURLOPT_READDATA, userdata);
}

CURLcode cshims_curl_easy_getinfo_long(const cshims_curl_api *api, CURL *handle, CURLINFO info,
                                       long *out) {
    return api->easy_getinfo(handle, info, out);
}

CURLcode cshims_curl_easy_getinfo_socket(const cshims_curl_api *api, CURL *handle,
                                         curl_socket_t *out) {
    return api->easy_getinfo(handle, CURLINFO_ACTIVESOCKET, out);
}

CURLcode cshims_curl_easy_getinfo_private(const cshims_curl_api *api, CURL *handle, void **out) {
    return api->easy_getinfo(handle, CURLINFO_PRIVATE, out);
}

CURLMcode cshims_curl_multi_setopt_long(const cshims_curl_api *api, CURLM *multi,
                                        CURLMoption option, long value) {
    return api->multi_setopt(multi, option, value);
}

int cshims_curl_multi_next_done(const cshims_curl_api *api, CURLM *multi, CURL **easy,
                                CURLcode *result) {
    int remaining = 0;
    CURLMsg *message;
    while ((message = api->multi_info_read(multi, &remaining)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *easy = message->easy_handle;
            *result = message->data.result;
            return 1;
        }
    }
    return 0;
}

