#ifndef BULWARK_CLIBBPF_SHIM_H
#define BULWARK_CLIBBPF_SHIM_H
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#endif
