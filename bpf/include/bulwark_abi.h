/* The one definition of every BPF map key and value, shared by the BPF C code and Swift (via BPFShims).
 * Only <linux/types.h> types, explicit padding, and size asserts so kernel and user space cannot drift.
 *
 * Map layout (all pinned by name under the pin root, default /sys/fs/bpf/bulwark):
 *   bulwark_endpoints  HASH      ifindex (__u32)              -> struct bulwark_endpoint
 *   bulwark_endpoint_slots ARRAY (mmapable) ifindex % BULWARK_ENDPOINT_SLOTS -> struct bulwark_endpoint_slot
 *   bulwark_ipcache    LPM_TRIE  struct bulwark_ipcache_key   -> struct bulwark_ipcache_value
 *   bulwark_address_cache ARRAY (mmapable) bulwark_address_bucket_of(key) -> struct bulwark_address_bucket
 *   bulwark_selectors  HASH      struct bulwark_selector_key  -> struct bulwark_selector_value
 *   bulwark_selector_cache ARRAY (mmapable) bulwark_selector_bucket_of(key) -> struct bulwark_selector_bucket
 *   bulwark_policy     LPM_TRIE  struct bulwark_policy_key    -> struct bulwark_policy_value  (sets with port ranges)
 *   bulwark_policy_exact HASH    struct bulwark_policy_exact_key -> struct bulwark_policy_value (all other sets)
 *   bulwark_conntrack  LRU_HASH  struct bulwark_ct_key        -> struct bulwark_ct_value
 *   bulwark_fragments  LRU_HASH  struct bulwark_frag_key      -> struct bulwark_frag_value
 *   bulwark_slot_counters PERCPU_ARRAY counter slot (__u32) -> struct bulwark_counter_value
 *   bulwark_rule_slots ARRAY     counter slot (__u32)         -> struct bulwark_rule_slot (written by userspace only)
 *   bulwark_counters   PERCPU_HASH struct bulwark_counter_key -> struct bulwark_counter_value (pairs without a slot)
 *   bulwark_stats      PERCPU_ARRAY __u32 (enum bulwark_stat) -> __u64
 *   bulwark_events     RINGBUF   records of struct bulwark_event
 */
#ifndef BULWARK_ABI_H
#define BULWARK_ABI_H
#include <linux/types.h>

#define BULWARK_ABI_VERSION 6

/* Direction from the pod's point of view. */
#define BULWARK_DIR_INGRESS 0
#define BULWARK_DIR_EGRESS 1

/* Isolation of one direction (DataplaneModel.Isolation raw values). */
#define BULWARK_ISOLATION_NONE 0
#define BULWARK_ISOLATION_AUDIT 1
#define BULWARK_ISOLATION_ENFORCE 2

/* Reserved identities (DataplaneModel.Identity). */
#define BULWARK_IDENTITY_ANY 0
#define BULWARK_IDENTITY_HOST 1
#define BULWARK_IDENTITY_WORLD 2

/* Endpoint configuration, keyed by the host-side veth ifindex (which is also the endpoint id in policy keys).
 * `policy_epoch` selects which of the two policy generations (0 or 1) packets of this endpoint look up: userspace
 * writes a new generation beside the active one and flips this byte, so every packet sees one whole policy. */
/* `flags`: BULWARK_ENDPOINT_WILDCARD_* say whether the direction's active generation has any-identity entries;
 * when it has none, the second policy lookup (identity 0) is skipped. */
#define BULWARK_ENDPOINT_WILDCARD_INGRESS 0x1
#define BULWARK_ENDPOINT_WILDCARD_EGRESS 0x2
struct bulwark_endpoint {
    __u32 endpoint_id;
    __u32 identity;
    __u8 ingress_isolation;
    __u8 egress_isolation;
    __u8 policy_epoch;
    __u8 flags;
};
_Static_assert(sizeof(struct bulwark_endpoint) == 12, "bulwark_endpoint ABI");

/* The endpoint configs again, in a direct-mapped array indexed by ifindex % BULWARK_ENDPOINT_SLOTS, because an
 * array lookup is inlined by the verifier while a hash lookup is a kernel call (~30 ns of a ~100 ns verdict on the
 * development VM). A slot names its owner: a packet uses the slot when `ifindex` is its interface, else the
 * bulwark_endpoints hash (the authority, which holds every endpoint; a slot is a copy). One slot is 8 bytes, written
 * by userspace with one atomic store through an mmap of the map and read by the programs with one load, so a packet
 * sees a whole config, old or new, as with the hash. Two live endpoints whose ifindexes collide modulo the slot
 * count: the first keeps the slot, the other is read from the hash. */
#define BULWARK_ENDPOINT_SLOTS 65536
struct bulwark_endpoint_slot {
    __u32 ifindex; /* owner; 0: free (no interface has index 0) */
    __u8 ingress_isolation;
    __u8 egress_isolation;
    __u8 policy_epoch;
    __u8 flags;
};
_Static_assert(sizeof(struct bulwark_endpoint_slot) == 8, "bulwark_endpoint_slot ABI");

/* ipcache: remote address -> identity. LPM data = family (1 byte) + 3 zero bytes + 16 address bytes (IPv4 uses the
 * first 4), so prefixlen = 32 + address prefix length. Family is 4 or 6. */
#define BULWARK_IPCACHE_PREFIX_BASE 32
struct bulwark_ipcache_key {
    __u32 prefixlen;
    __u8 family;
    __u8 pad[3];
    __u8 addr[16];
};
_Static_assert(sizeof(struct bulwark_ipcache_key) == 24, "bulwark_ipcache_key ABI");

struct bulwark_ipcache_value {
    __u32 identity;
    __u32 pad;
};
_Static_assert(sizeof(struct bulwark_ipcache_value) == 8, "bulwark_ipcache_value ABI");

/* The ipcache's host entries (/32 and /128: one per pod) again, in a 4-way set-associative table that the programs
 * read without a kernel call, because the trie gets deeper as it fills: ~12 ns with one prefix, ~45-75 ns with a
 * cluster's thousands of pod addresses. A copy is the trie's answer for its address (a host entry is the longest
 * prefix that can match); any miss (another address, an overflowed bucket, one being written) asks the trie. Written
 * like the selector buckets (see struct bulwark_selector_bucket): through an mmap, under `sequence`, on x86-64 only,
 * after the trie gains or changes the entry and before it loses it. A free way's family is 0. */
#define BULWARK_ADDRESS_WAYS 4
#define BULWARK_ADDRESS_BUCKETS 16384 /* a power of two: 65,536 addresses, 1.7 MB */
struct bulwark_address_key {
    __u8 family; /* 4 or 6; 0: free */
    __u8 pad[3];
    __u8 addr[16]; /* IPv4 in the first 4 bytes, the rest zero */
};
_Static_assert(sizeof(struct bulwark_address_key) == 20, "bulwark_address_key ABI");

struct bulwark_address_bucket {
    __u32 sequence;
    struct bulwark_address_key keys[BULWARK_ADDRESS_WAYS];
    __u32 identities[BULWARK_ADDRESS_WAYS];
    __u32 pad; /* an array map's elements are 8-byte aligned in its mmap: the struct must be too */
};
_Static_assert(sizeof(struct bulwark_address_bucket) == 104, "bulwark_address_bucket ABI");

/* The bucket of an address, the same function in the programs and in the agent. */
static inline __u32 bulwark_address_bucket_of(const struct bulwark_address_key *key) {
    const __u32 *words = (const __u32 *)key->addr;
    __u32 h = key->family * 0x9E3779B1u ^ words[0] * 0x85EBCA77u ^ words[1] * 0xC2B2AE3Du ^ words[2] * 0x27D4EB2Fu ^
              words[3] * 0x165667B1u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 13;
    return h & (BULWARK_ADDRESS_BUCKETS - 1);
}

/* Policy, in two steps so lookup cost does not grow with the number of rules:
 * 1. bulwark_selectors (hash): (endpoint, remote identity, direction|epoch) -> policy set id, and a copy of the
 *    set's keys when it is small (BULWARK_SELECTOR_INLINE keys at most, no ranges): most identities are allowed a
 *    few ports, so most packets are decided by the selector lookup alone.
 * 2. the set's keys: (set id, proto, dport) -> folded verdict flags. A set is one identity's folded port rules;
 *    identical sets are shared by every endpoint and identity that has them (content-addressed, immutable: a changed
 *    policy gets new sets, never edits a set in use).
 * A set's key lengths, LPM style: "any protocol" ends the prefix at 32, "any port" at 40, one port at 56, and a port
 * range is a few aligned power-of-two blocks (40 + k bits). The low bits of a set id (BULWARK_SET_*) say which
 * lengths the set has, and so where its keys live:
 * - a set with range blocks keeps all its keys in the bulwark_policy LPM trie: one lookup, longest prefix wins;
 * - every other set keeps them in the bulwark_policy_exact hash, looked up from the most specific length the set
 *   has (one port, then the protocol, then any protocol) to the first hit. Folding gives each key the union of the
 *   keys covering it, so the most specific hit is the LPM answer, at hash cost and without trie depth (the trie's
 *   depth grows with its size; a hash bucket does not).
 * At most two selector lookups per packet: exact identity, then identity 0 (only when the endpoint has wildcard
 * entries). */
#define BULWARK_SET_PORTS 0x1  /* single-port keys (length 56) */
#define BULWARK_SET_PROTO 0x2  /* protocol-wide keys (length 40) */
#define BULWARK_SET_ANY 0x4    /* the any-protocol key (length 32) */
#define BULWARK_SET_RANGES 0x8 /* port blocks (40 < length < 56): the set lives in the LPM trie */
#define BULWARK_SET_SHAPE_BITS 4

struct bulwark_selector_key {
    __u32 endpoint;
    __u32 identity;
    __u8 dir_epoch; /* direction | epoch << 1 */
    __u8 pad[3];
};
_Static_assert(sizeof(struct bulwark_selector_key) == 12, "bulwark_selector_key ABI");


#define BULWARK_POLICY_PREFIX_SET 32
#define BULWARK_POLICY_PREFIX_PROTO 40
#define BULWARK_POLICY_PREFIX_FULL 56
struct bulwark_policy_key {
    __u32 prefixlen;
    __u32 set_id;
    __u8 proto;
    __u8 dport[2]; /* network order, as bytes: no padding may split the prefix */
    __u8 pad;
};
_Static_assert(sizeof(struct bulwark_policy_key) == 12, "bulwark_policy_key ABI");

/* Key of bulwark_policy_exact: a set's key of one length, padded like the LPM data (port 0 below length 56). */
struct bulwark_policy_exact_key {
    __u32 set_id;
    __u8 proto;
    __u8 prefixlen; /* 32, 40 or 56 */
    __u8 dport[2];  /* network order */
};
_Static_assert(sizeof(struct bulwark_policy_exact_key) == 8, "bulwark_policy_exact_key ABI");

/* Flags folded over every entry that covers a key (LPM returns only the longest match, so userspace folds). */
#define BULWARK_POLICY_ENFORCE_ALLOW 0x1 /* an enforced allow matches */
#define BULWARK_POLICY_ENFORCE_DENY 0x2  /* an enforced deny matches */
#define BULWARK_POLICY_AUDIT_ALLOW 0x4   /* an allow of any mode matches (the audited question) */
#define BULWARK_POLICY_AUDIT_DENY 0x8    /* a deny of any mode matches (the audited question) */
struct bulwark_policy_value {
    __u32 flags;
    __u32 enforce_rule;  /* rule deciding the enforced answer: lowest deny rule if ENFORCE_DENY, else lowest allow */
    __u32 audit_rule;    /* rule deciding the audited answer, same choice over all modes */
    __u16 enforce_slot;  /* counter slot of (enforce_rule, allow or deny), BULWARK_SLOT_NONE without one */
    __u16 audit_slot;    /* counter slot of (audit_rule, audit) when AUDIT_DENY, BULWARK_SLOT_NONE without one */
};
_Static_assert(sizeof(struct bulwark_policy_value) == 16, "bulwark_policy_value ABI");

/* One key of a small set, copied into the selector value (same fields as bulwark_policy_exact_key). */
struct bulwark_inline_key {
    __u8 proto;
    __u8 prefixlen; /* 32, 40 or 56 */
    __u8 dport[2];  /* network order */
};
_Static_assert(sizeof(struct bulwark_inline_key) == 4, "bulwark_inline_key ABI");

#define BULWARK_SELECTOR_INLINE 4
struct bulwark_selector_value {
    __u32 set_id;
    __u8 inline_count; /* 0: look the set's keys up; else keys[0..inline_count) are the whole set */
    __u8 pad[3];
    struct bulwark_inline_key keys[BULWARK_SELECTOR_INLINE];
    struct bulwark_policy_value values[BULWARK_SELECTOR_INLINE];
};
_Static_assert(sizeof(struct bulwark_selector_value) == 88, "bulwark_selector_value ABI");

/* The selectors again, in a 4-way set-associative table that the programs read without a kernel call (an array
 * lookup is inlined; a hash lookup that hits costs ~35 ns on the development VM, a third of a verdict). The
 * bulwark_selectors hash stays the authority and holds every selector; a bucket holds copies of up to
 * BULWARK_SELECTOR_WAYS of those that hash to it. A packet's selector is: the matching way's copy; else none when
 * the bucket is `complete` (no selector hashing to it is missing from its ways); else the hash's answer. A new map
 * is all zero, so until the agent has filled it every lookup takes the hash.
 * Userspace writes a bucket through an mmap of the map like a seqcount: `sequence` is odd while it writes, and a
 * program that sees an odd or changed `sequence` around its reads uses the hash instead. The programs order their
 * reads with compiler barriers only, which is enough where loads are not reordered with loads (x86-64); elsewhere
 * the agent leaves every bucket empty and incomplete, so every lookup takes the hash. Copies follow the hash:
 * written after it gains or changes a selector, removed before it loses one, so a copy is never of a selector the
 * hash no longer has. A free way's key is all zero (no endpoint has ifindex 0). */
#define BULWARK_SELECTOR_WAYS 4
#define BULWARK_SELECTOR_BUCKETS 8192 /* a power of two: 32,768 copies, 3.3 MB */
struct bulwark_selector_bucket {
    __u32 sequence;
    __u32 complete; /* 1: the ways hold every selector that hashes here */
    struct bulwark_selector_key keys[BULWARK_SELECTOR_WAYS];
    struct bulwark_selector_value values[BULWARK_SELECTOR_WAYS];
};
_Static_assert(sizeof(struct bulwark_selector_bucket) == 408, "bulwark_selector_bucket ABI"); /* 8-byte multiple: mmap */

/* The bucket of a selector: a multiplicative hash of its three words, the same function in the programs and in
 * the agent (which is why it is defined here). */
static inline __u32 bulwark_selector_bucket_of(const struct bulwark_selector_key *key) {
    __u32 h = key->endpoint * 0x9E3779B1u ^ key->identity * 0x85EBCA77u ^ (__u32)key->dir_epoch * 0xC2B2AE3Du;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 13;
    return h & (BULWARK_SELECTOR_BUCKETS - 1);
}

/* Conntrack, oriented from the endpoint: both directions of one flow on one veth share a key. Keyed by endpoint,
 * so the two pods of a same-node connection each keep their own entry and decide independently. ICMP echo uses
 * the echo id as pod_port and 0 as remote_port. */
struct bulwark_ct_key {
    __u32 endpoint;
    __u8 family;
    __u8 proto;
    __be16 pod_port;
    __be16 remote_port;
    __u16 pad;
    __u8 pod_addr[16];
    __u8 remote_addr[16];
};
_Static_assert(sizeof(struct bulwark_ct_key) == 44, "bulwark_ct_key ABI");

#define BULWARK_CT_FIN_INGRESS 0x1
#define BULWARK_CT_FIN_EGRESS 0x2
struct bulwark_ct_value {
    __u64 last_seen_ns;
    __u32 rule;      /* rule that allowed the flow, counted for every packet of it */
    __u8 origin;     /* direction of the packet that opened the flow */
    __u8 tcp_flags;  /* BULWARK_CT_FIN_* seen */
    __u16 slot;      /* counter slot of (rule, allow) */
};
_Static_assert(sizeof(struct bulwark_ct_value) == 16, "bulwark_ct_value ABI");

/* First fragments record their ports so later fragments of the same datagram are judged like it. */
struct bulwark_frag_key {
    __u8 family;
    __u8 proto;
    __u16 pad;
    __u32 id;
    __u8 saddr[16];
    __u8 daddr[16];
};
_Static_assert(sizeof(struct bulwark_frag_key) == 40, "bulwark_frag_key ABI");

struct bulwark_frag_value {
    __be16 sport;
    __be16 dport;
};
_Static_assert(sizeof(struct bulwark_frag_value) == 4, "bulwark_frag_value ABI");

/* Verdicts in counters and events. */
#define BULWARK_VERDICT_ALLOW 0
#define BULWARK_VERDICT_DENY 1
#define BULWARK_VERDICT_AUDIT 2

/* Per-rule counters. Rule ids are 32-bit hashes, so userspace gives each (rule, verdict) pair that a policy value
 * can count a dense slot (bulwark_rule_slots says which pair a slot counts) and values carry slots: counting is then
 * an index into a per-CPU array, which the verifier inlines, instead of a hash lookup. Slots are never reused (a
 * conntrack entry may still count into its rule's slot after the rule is gone); pairs past BULWARK_RULE_SLOTS get
 * BULWARK_SLOT_NONE and are counted in the bulwark_counters hash, keyed by rule and verdict. */
#define BULWARK_RULE_SLOTS 16384
#define BULWARK_SLOT_NONE 0xffff
#define BULWARK_SLOT_DEFAULT_ALLOW 0 /* rule 0 (the default verdict), one slot per verdict */
#define BULWARK_SLOT_DEFAULT_DENY 1
#define BULWARK_SLOT_DEFAULT_AUDIT 2
#define BULWARK_SLOTS_RESERVED 3

struct bulwark_rule_slot {
    __u32 rule;
    __u8 verdict;
    __u8 used;
    __u16 pad;
};
_Static_assert(sizeof(struct bulwark_rule_slot) == 8, "bulwark_rule_slot ABI");

struct bulwark_counter_key {
    __u32 rule;
    __u32 verdict;
};
_Static_assert(sizeof(struct bulwark_counter_key) == 8, "bulwark_counter_key ABI");

struct bulwark_counter_value {
    __u64 packets;
    __u64 bytes;
};
_Static_assert(sizeof(struct bulwark_counter_value) == 16, "bulwark_counter_value ABI");

/* Global per-CPU statistics, indices of bulwark_stats. */
enum bulwark_stat {
    BULWARK_STAT_CT_HIT = 0,
    BULWARK_STAT_POLICY_ALLOW = 1,
    BULWARK_STAT_POLICY_DENY = 2,
    BULWARK_STAT_AUDIT = 3,
    BULWARK_STAT_MALFORMED = 4,
    BULWARK_STAT_FRAGMENT_UNKNOWN = 5,
    BULWARK_STAT_EVENTS_LOST = 6,
    BULWARK_STAT_COUNT = 8,
};

/* Why a deny/audit event was emitted. */
#define BULWARK_REASON_POLICY 0
#define BULWARK_REASON_MALFORMED 1
#define BULWARK_REASON_FRAGMENT 2

struct bulwark_event {
    __u64 timestamp_ns;
    __u32 ifindex;
    __u32 identity; /* remote identity */
    __u32 rule;
    __u8 verdict;
    __u8 direction;
    __u8 proto;
    __u8 family;
    __u8 saddr[16];
    __u8 daddr[16];
    __be16 sport;
    __be16 dport;
    __u8 reason;
    __u8 pad[3];
};
_Static_assert(sizeof(struct bulwark_event) == 64, "bulwark_event ABI");

#endif
