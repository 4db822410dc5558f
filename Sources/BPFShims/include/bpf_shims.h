// C helpers for libbpf calls whose options structs are built with macros Swift cannot import (LIBBPF_OPTS).
#ifndef BULWARK_BPF_SHIMS_H
#define BULWARK_BPF_SHIMS_H
#include <stddef.h>
#include <bpf/libbpf.h>
#include "bulwark_abi.h"

/// Opens a BPF object from memory; maps marked LIBBPF_PIN_BY_NAME are pinned under (or reused from) `pin_root`.
struct bpf_object *bulwark_object_open_mem(const void *data, size_t size, const char *name, const char *pin_root);

#endif
