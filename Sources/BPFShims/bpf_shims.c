#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include "bpf_shims.h"

struct bpf_object *bulwark_object_open_mem(const void *data, size_t size, const char *name, const char *pin_root) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name, .pin_root_path = pin_root);
    return bpf_object__open_mem(data, size, &opts);
}

static void tc_hook_init(struct bpf_tc_hook *hook, int ifindex, int egress) {
    memset(hook, 0, sizeof(*hook));
    hook->sz = sizeof(*hook);
    hook->ifindex = ifindex;
    hook->attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

int bulwark_tc_attach(int ifindex, int egress, int prog_fd, __u32 handle, __u32 priority) {
    struct bpf_tc_hook hook;
    tc_hook_init(&hook, ifindex, egress);
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST)
        return err;
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority, .prog_fd = prog_fd,
                .flags = BPF_TC_F_REPLACE);
    return bpf_tc_attach(&hook, &opts);
}

int bulwark_tc_detach(int ifindex, int egress, __u32 handle, __u32 priority) {
    struct bpf_tc_hook hook;
    tc_hook_init(&hook, ifindex, egress);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
    return bpf_tc_detach(&hook, &opts);
}

int bulwark_tc_query(int ifindex, int egress, __u32 handle, __u32 priority, __u32 *prog_id) {
    struct bpf_tc_hook hook;
    tc_hook_init(&hook, ifindex, egress);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
    int err = bpf_tc_query(&hook, &opts);
    if (err)
        return err;
    *prog_id = opts.prog_id;
    return 0;
}

int bulwark_prog_test_run(int prog_fd, const void *data, __u32 size, __u32 ifindex, __u32 repeat, __u32 *retval,
                          __u32 *duration_ns) {
    struct __sk_buff ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.ifindex = ifindex;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = size, .ctx_in = &ctx,
                .ctx_size_in = sizeof(ctx), .repeat = repeat);
    int err = bpf_prog_test_run_opts(prog_fd, &opts);
    if (err)
        return err;
    *retval = opts.retval;
    *duration_ns = opts.duration;
    return 0;
}

int bulwark_map_update_batch(int fd, const void *keys, const void *values, __u32 *count) {
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
    return bpf_map_update_batch(fd, keys, values, count, &opts);
}

int bulwark_map_delete_batch(int fd, const void *keys, __u32 *count) {
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    return bpf_map_delete_batch(fd, keys, count, &opts);
}

int bulwark_prog_id(int prog_fd, __u32 *prog_id) {
    struct bpf_prog_info info;
    __u32 len = sizeof(info);
    memset(&info, 0, sizeof(info));
    int err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
    if (err)
        return err;
    *prog_id = info.id;
    return 0;
}

int bulwark_pinned_map_id(const char *path, __u32 *map_id) {
    int fd = bpf_obj_get(path);
    if (fd < 0)
        return -errno;
    struct bpf_map_info info;
    __u32 len = sizeof(info);
    memset(&info, 0, sizeof(info));
    int err = bpf_obj_get_info_by_fd(fd, &info, &len);
    close(fd);
    if (err)
        return err;
    *map_id = info.id;
    return 0;
}

int bulwark_prog_uses_map(__u32 prog_id, __u32 map_id) {
    int fd = bpf_prog_get_fd_by_id(prog_id);
    if (fd < 0)
        return -errno;
    __u32 ids[64];
    struct bpf_prog_info info;
    __u32 len = sizeof(info);
    memset(&info, 0, sizeof(info));
    info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
    info.map_ids = (__u64)(unsigned long)ids;
    int err = bpf_obj_get_info_by_fd(fd, &info, &len);
    close(fd);
    if (err)
        return err;
    __u32 count = info.nr_map_ids < sizeof(ids) / sizeof(ids[0]) ? info.nr_map_ids : sizeof(ids) / sizeof(ids[0]);
    for (__u32 i = 0; i < count; i++)
        if (ids[i] == map_id)
            return 1;
    return 0;
}

int bulwark_is_bpffs(const char *path) {
    struct statfs info;
    return statfs(path, &info) == 0 && (unsigned long)info.f_type == BPF_FS_MAGIC;
}

/* libbpf logs expected netlink refusals (no clsact yet on query, existing clsact on create) as warnings; they are
 * handled, so only other warnings and errors (verifier logs, pin conflicts) reach stderr. */
static int bulwark_libbpf_print(enum libbpf_print_level level, const char *format, va_list args) {
    if (level == LIBBPF_DEBUG || strstr(format, "Kernel error message") != NULL)
        return 0;
    return vfprintf(stderr, format, args);
}

void bulwark_libbpf_install_logger(void) { libbpf_set_print(bulwark_libbpf_print); }

int bulwark_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, __u32 *count) {
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    return bpf_map_lookup_batch(fd, in_batch, out_batch, keys, values, count, &opts);
}

void *bulwark_map_mmap(int fd, size_t size) {
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return base == MAP_FAILED ? NULL : base;
}

int bulwark_map_munmap(void *base, size_t size) { return munmap(base, size) == 0 ? 0 : -errno; }

_Static_assert(sizeof(struct bulwark_endpoint_slot) == sizeof(__u64), "a slot is one atomic word");

void bulwark_endpoint_slot_store(void *base, __u32 index, struct bulwark_endpoint_slot slot) {
    __u64 word;
    memcpy(&word, &slot, sizeof(word));
    __atomic_store_n((__u64 *)base + index, word, __ATOMIC_RELEASE);
}

struct bulwark_endpoint_slot bulwark_endpoint_slot_load(const void *base, __u32 index) {
    __u64 word = __atomic_load_n((const __u64 *)base + index, __ATOMIC_ACQUIRE);
    struct bulwark_endpoint_slot slot;
    memcpy(&slot, &word, sizeof(slot));
    return slot;
}

/* An array map's mmap lays its elements out 8-byte aligned: a bucket's C size must be its stride there. */
_Static_assert(sizeof(struct bulwark_selector_bucket) % 8 == 0, "selector bucket stride");
_Static_assert(sizeof(struct bulwark_address_bucket) % 8 == 0, "address bucket stride");

/* A seqcount writer over a mapped bucket whose first field is its __u32 sequence: odd, content, even. */
static void bucket_store(void *bucket, const void *content, size_t size) {
    __u32 *sequence = bucket;
    __u32 odd = __atomic_load_n(sequence, __ATOMIC_RELAXED) | 1;
    __atomic_store_n(sequence, odd, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE); /* the odd sequence before any content */
    memcpy((char *)bucket + sizeof(*sequence), (const char *)content + sizeof(*sequence), size - sizeof(*sequence));
    __atomic_store_n(sequence, odd + 1, __ATOMIC_RELEASE); /* the content before the even sequence */
}

struct bulwark_selector_bucket bulwark_selector_bucket_load(const void *base, __u32 index) {
    struct bulwark_selector_bucket bucket;
    memcpy(&bucket, (const struct bulwark_selector_bucket *)base + index, sizeof(bucket));
    return bucket;
}

void bulwark_selector_bucket_store(void *base, __u32 index, struct bulwark_selector_bucket content) {
    bucket_store((struct bulwark_selector_bucket *)base + index, &content, sizeof(content));
}

struct bulwark_address_bucket bulwark_address_bucket_load(const void *base, __u32 index) {
    struct bulwark_address_bucket bucket;
    memcpy(&bucket, (const struct bulwark_address_bucket *)base + index, sizeof(bucket));
    return bucket;
}

void bulwark_address_bucket_store(void *base, __u32 index, struct bulwark_address_bucket content) {
    bucket_store((struct bulwark_address_bucket *)base + index, &content, sizeof(content));
}

struct bulwark_address_key bulwark_address_bucket_key(const struct bulwark_address_bucket *bucket, __u32 way) {
    return bucket->keys[way % BULWARK_ADDRESS_WAYS];
}

__u32 bulwark_address_bucket_identity(const struct bulwark_address_bucket *bucket, __u32 way) {
    return bucket->identities[way % BULWARK_ADDRESS_WAYS];
}

void bulwark_address_bucket_set(struct bulwark_address_bucket *bucket, __u32 way, struct bulwark_address_key key,
                                __u32 identity) {
    bucket->keys[way % BULWARK_ADDRESS_WAYS] = key;
    bucket->identities[way % BULWARK_ADDRESS_WAYS] = identity;
}

struct bulwark_selector_key bulwark_selector_bucket_key(const struct bulwark_selector_bucket *bucket, __u32 way) {
    return bucket->keys[way % BULWARK_SELECTOR_WAYS];
}

struct bulwark_selector_value bulwark_selector_bucket_value(const struct bulwark_selector_bucket *bucket, __u32 way) {
    return bucket->values[way % BULWARK_SELECTOR_WAYS];
}

void bulwark_selector_bucket_set(struct bulwark_selector_bucket *bucket, __u32 way, struct bulwark_selector_key key,
                                 struct bulwark_selector_value value) {
    bucket->keys[way % BULWARK_SELECTOR_WAYS] = key;
    bucket->values[way % BULWARK_SELECTOR_WAYS] = value;
}
