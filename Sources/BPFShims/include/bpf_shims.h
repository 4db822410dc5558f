// C helpers for libbpf calls whose options structs are built with macros Swift cannot import (LIBBPF_OPTS).
// Every function returns 0 or a negative errno, like libbpf 1.x; Swift turns that into one error type.
#ifndef BULWARK_BPF_SHIMS_H
#define BULWARK_BPF_SHIMS_H
#include <stddef.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "bulwark_abi.h"

/// Opens a BPF object from memory; maps marked LIBBPF_PIN_BY_NAME are pinned under (or reused from) `pin_root`.
struct bpf_object *bulwark_object_open_mem(const void *data, size_t size, const char *name, const char *pin_root);

/// Creates the clsact hook on `ifindex` (tolerating an existing one) and attaches `prog_fd` at the fixed
/// handle/priority on the ingress (`egress == 0`) or egress side, replacing whatever program sits there.
int bulwark_tc_attach(int ifindex, int egress, int prog_fd, __u32 handle, __u32 priority);

/// Detaches the filter at handle/priority; -ENOENT when there is none.
int bulwark_tc_detach(int ifindex, int egress, __u32 handle, __u32 priority);

/// Reads the program id attached at handle/priority into `prog_id`; -ENOENT when there is none.
int bulwark_tc_query(int ifindex, int egress, __u32 handle, __u32 priority, __u32 *prog_id);

/// Runs a TC program once or `repeat` times on `data` (BPF_PROG_TEST_RUN) as if received on `ifindex`
/// (0 = loopback). Returns the program's return value and the mean duration per run in nanoseconds.
int bulwark_prog_test_run(int prog_fd, const void *data, __u32 size, __u32 ifindex, __u32 repeat, __u32 *retval,
                          __u32 *duration_ns);

/// Batch update/delete; `count` is in/out (how many were processed). -EOPNOTSUPP/-EINVAL for maps without batch ops.
int bulwark_map_update_batch(int fd, const void *keys, const void *values, __u32 *count);
int bulwark_map_delete_batch(int fd, const void *keys, __u32 *count);
/// Batch read: `in_batch` NULL starts, `out_batch` receives the resume token; -ENOENT after the last batch.
int bulwark_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, __u32 *count);

/// Id of the program behind `prog_fd` (to compare with what tc reports).
int bulwark_prog_id(int prog_fd, __u32 *prog_id);

/// Maps the values of a BPF_F_MMAPABLE array into memory (shared with the programs); NULL with errno set on failure.
void *bulwark_map_mmap(int fd, size_t size);
int bulwark_map_munmap(void *base, size_t size);

/// Writes / reads slot `index` of the mapped endpoint slot array as one atomic 8-byte access: the programs read a
/// slot with one load, so they see the whole old or the whole new slot.
void bulwark_endpoint_slot_store(void *base, __u32 index, struct bulwark_endpoint_slot slot);
struct bulwark_endpoint_slot bulwark_endpoint_slot_load(const void *base, __u32 index);

/// Reads / rewrites bucket `index` of the mapped bulwark_selector_cache array. The store is a seqcount writer: the
/// bucket's sequence is made odd, the content written, and the sequence made even, with release ordering between
/// the steps, so a program reading the bucket meanwhile sees its sequence change and asks the hash instead. A
/// sequence found odd (a writer that died mid-write) ends even.
struct bulwark_selector_bucket bulwark_selector_bucket_load(const void *base, __u32 index);
void bulwark_selector_bucket_store(void *base, __u32 index, struct bulwark_selector_bucket content);

/// The same for the mapped bulwark_address_cache array.
struct bulwark_address_bucket bulwark_address_bucket_load(const void *base, __u32 index);
void bulwark_address_bucket_store(void *base, __u32 index, struct bulwark_address_bucket content);

/// Way `way` of a bucket (the ABI struct's arrays are tuples in Swift).
struct bulwark_selector_key bulwark_selector_bucket_key(const struct bulwark_selector_bucket *bucket, __u32 way);
struct bulwark_selector_value bulwark_selector_bucket_value(const struct bulwark_selector_bucket *bucket, __u32 way);
void bulwark_selector_bucket_set(struct bulwark_selector_bucket *bucket, __u32 way, struct bulwark_selector_key key,
                                 struct bulwark_selector_value value);
struct bulwark_address_key bulwark_address_bucket_key(const struct bulwark_address_bucket *bucket, __u32 way);
__u32 bulwark_address_bucket_identity(const struct bulwark_address_bucket *bucket, __u32 way);
void bulwark_address_bucket_set(struct bulwark_address_bucket *bucket, __u32 way, struct bulwark_address_key key,
                                __u32 identity);

/// 1 when `path` is on a BPF file system (where pins survive), else 0.
int bulwark_is_bpffs(const char *path);

/// Id of the map pinned at `path`; -ENOENT when nothing is pinned there.
int bulwark_pinned_map_id(const char *path, __u32 *map_id);

/// 1 when program `prog_id` uses map `map_id`, 0 when not; -ENOENT when no such program exists (any more).
int bulwark_prog_uses_map(__u32 prog_id, __u32 map_id);

/// Routes libbpf's log to stderr without debug output and without the netlink refusals the shims handle.
void bulwark_libbpf_install_logger(void);

#endif
