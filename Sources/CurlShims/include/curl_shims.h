// Typed, non-variadic wrappers for libcurl calls Swift cannot make directly.
// `curl_easy_setopt` and `curl_easy_getinfo` are C varargs functions; Swift can't call them, so each argument
// type gets one tiny wrapper (the same approach as swift-corelibs-foundation's CFURLSessionInterface).
#ifndef BULWARK_CURL_SHIMS_H
#define BULWARK_CURL_SHIMS_H
#include <curl/curl.h>

CURLcode bulwark_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode bulwark_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode bulwark_curl_setopt_int64(CURL *handle, CURLoption option, curl_off_t value);
CURLcode bulwark_curl_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t len);
CURLcode bulwark_curl_setopt_write_callback(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode bulwark_curl_setopt_header_callback(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode bulwark_curl_setopt_read_callback(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode bulwark_curl_setopt_xferinfo_callback(CURL *handle,
    int (*callback)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t));
CURLcode bulwark_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLMcode bulwark_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);

#endif
