#include "bpf_shims.h"

struct bpf_object *bulwark_object_open_mem(const void *data, size_t size, const char *name, const char *pin_root) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name, .pin_root_path = pin_root);
    return bpf_object__open_mem(data, size, &opts);
}
