#ifndef BULWARK_CCURL_SHIM_H
#define BULWARK_CCURL_SHIM_H
#include <curl/curl.h>
#endif
