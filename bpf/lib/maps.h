/* BTF map definitions; every map is pinned by name so a restarted agent (and the programs it replaces) share them. */
#ifndef BULWARK_MAPS_H
#define BULWARK_MAPS_H

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, struct bulwark_endpoint);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_endpoints SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, BULWARK_ENDPOINT_SLOTS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, struct bulwark_endpoint_slot);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_endpoint_slots SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 262144);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct bulwark_ipcache_key);
    __type(value, struct bulwark_ipcache_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_ipcache SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, BULWARK_ADDRESS_BUCKETS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, struct bulwark_address_bucket);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_address_cache SEC(".maps");

/* Room for two generations of every endpoint's selectors while one is being replaced. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 524288);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct bulwark_selector_key);
    __type(value, struct bulwark_selector_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_selectors SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, BULWARK_SELECTOR_BUCKETS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, struct bulwark_selector_bucket);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_selector_cache SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 524288);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct bulwark_policy_key);
    __type(value, struct bulwark_policy_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_policy SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 524288);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct bulwark_policy_exact_key);
    __type(value, struct bulwark_policy_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_policy_exact SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 131072);
    __type(key, struct bulwark_ct_key);
    __type(value, struct bulwark_ct_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_conntrack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 8192);
    __type(key, struct bulwark_frag_key);
    __type(value, struct bulwark_frag_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_fragments SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, BULWARK_RULE_SLOTS);
    __type(key, __u32);
    __type(value, struct bulwark_counter_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_slot_counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, BULWARK_RULE_SLOTS);
    __type(key, __u32);
    __type(value, struct bulwark_rule_slot);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_rule_slots SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct bulwark_counter_key);
    __type(value, struct bulwark_counter_value);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_counters SEC(".maps");

/* Per-CPU cache of the coarse clock, program-private (not pinned, see coarse_now in conntrack.h). */
struct coarse_clock {
    __u64 jiffies;
    __u64 ns;
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct coarse_clock);
} bulwark_clock SEC(".maps");

/* Per-CPU cache of flows the conntrack map recently confirmed, in front of it, and the count of conntrack entries the
 * programs deleted, which invalidates every cached flow (program-private, not pinned; see flow_cache_* in
 * conntrack.h). One 64-byte line per slot. */
#define FLOW_CACHE_SLOTS 512
struct flow_cache_entry {
    struct bulwark_ct_key key;
    __u32 generation;     /* bulwark_ct_deletions when cached */
    __u64 valid_until_ns; /* coarse clock */
    __u32 rule;
    __u16 slot;
    __u16 pad;
};
_Static_assert(sizeof(struct flow_cache_entry) == 64, "flow_cache_entry fills one cache line");
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, FLOW_CACHE_SLOTS);
    __type(key, __u32);
    __type(value, struct flow_cache_entry);
} bulwark_flow_cache SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} bulwark_ct_deletions SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, BULWARK_STAT_COUNT);
    __type(key, __u32);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_events SEC(".maps");

#endif
