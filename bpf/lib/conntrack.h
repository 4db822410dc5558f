/* Connection tracking, per endpoint: an entry exists only for flows whose opening packet passed the checked
 * direction's policy; every later packet and every reply of the flow passes on that endpoint's veth.
 *
 * Lifetimes: TCP 6 h after the last packet (10 s once both sides sent FIN), other protocols 60 s. A RST passes and
 * deletes the entry. A TCP SYN without ACK is always judged by policy (a new connection reusing a tuple must not
 * inherit the old one's verdict). Entries past their lifetime count as missing; the LRU evicts them under pressure.
 * Times are CLOCK_MONOTONIC at tick resolution (bpf_ktime_get_coarse_ns, a few ms coarse against lifetimes of
 * seconds), read through a per-CPU cache (coarse_now); a flow's last_seen_ns is refreshed at most once a second, so
 * established packets rarely write the entry (no cache line bouncing between the CPUs of a flow's two directions).
 * In front of the hash, each CPU keeps the flows it recently confirmed (the flow cache, below). */
#ifndef BULWARK_CONNTRACK_H
#define BULWARK_CONNTRACK_H

#define NS_PER_SEC 1000000000ULL
#define CT_LIFETIME_TCP (6ULL * 3600 * NS_PER_SEC)
#define CT_LIFETIME_CLOSING (10ULL * NS_PER_SEC)
#define CT_LIFETIME_OTHER (60ULL * NS_PER_SEC)

/* bpf_ktime_get_coarse_ns, called only when the tick count (bpf_jiffies64, which the verifier inlines into one load)
 * moved since this CPU last asked: the coarse clock only advances on ticks, and the helper call costs ~20 ns per
 * packet on the development VM. The cached value can lag the clock by a tick or two (jiffies and the coarse clock
 * are updated one after the other), which the lifetimes of seconds do not notice. */
static __always_inline __u64 coarse_now(void) {
    __u32 zero = 0;
    struct coarse_clock *clock = bpf_map_lookup_elem(&bulwark_clock, &zero);
    if (!clock)
        return bpf_ktime_get_coarse_ns();
    __u64 tick = bpf_jiffies64();
    if (clock->jiffies != tick) {
        clock->jiffies = tick;
        clock->ns = bpf_ktime_get_coarse_ns();
    }
    return clock->ns;
}

static __always_inline void ct_key_from(struct bulwark_ct_key *key, __u32 endpoint, __u8 dir, const struct flow *f) {
    key->endpoint = endpoint;
    key->family = f->family;
    key->proto = f->proto;
    if (dir == BULWARK_DIR_EGRESS) { /* pod is the source */
        __builtin_memcpy(key->pod_addr, f->saddr, 16);
        __builtin_memcpy(key->remote_addr, f->daddr, 16);
        key->pod_port = f->sport;
        key->remote_port = f->dport;
    } else {
        __builtin_memcpy(key->pod_addr, f->daddr, 16);
        __builtin_memcpy(key->remote_addr, f->saddr, 16);
        key->pod_port = f->dport;
        key->remote_port = f->sport;
    }
    if (f->icmp_echo) { /* request and reply carry the same echo id */
        key->pod_port = f->sport;
        key->remote_port = 0;
    }
}

static __always_inline int ct_tracked(const struct flow *f) {
    switch (f->proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
        return 1;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        return f->icmp_echo;
    default:
        return 0;
    }
}

static __always_inline __u64 ct_lifetime(const struct bulwark_ct_value *v, __u8 proto) {
    if (proto != IPPROTO_TCP)
        return CT_LIFETIME_OTHER;
    if ((v->tcp_flags & (BULWARK_CT_FIN_INGRESS | BULWARK_CT_FIN_EGRESS)) ==
        (BULWARK_CT_FIN_INGRESS | BULWARK_CT_FIN_EGRESS))
        return CT_LIFETIME_CLOSING;
    return CT_LIFETIME_TCP;
}

/* The flow cache: ct_lookup's answer for a flow, kept per CPU for up to a second, so most packets of an established
 * flow skip the conntrack hash (~40 ns of a ~100 ns verdict in BPF_PROG_TEST_RUN, more in real traffic, where the
 * hash's buckets and entries are rarely in the CPU's cache between packets; a slot is one inlined array line).
 * The hash stays the authority; the cache holds only what it would answer, and only while it would answer the same:
 * - a slot is filled on a conntrack hit by a packet that changes no flow state; TCP packets that do (SYN, FIN, RST)
 *   always take the hash;
 * - a program that deletes a conntrack entry (on a RST) counts it in bulwark_ct_deletions, and a slot is valid only
 *   while that count is what it was before the hash lookup that filled it: every CPU's cached flows drop at once;
 * - a slot is trusted for at most FLOW_CACHE_VALID_NS; the hash lookup that refills it refreshes the flow's
 *   last_seen_ns, so lifetimes (10 s and up) keep their meaning; a new entry for the tuple (a SYN reusing it)
 *   clears this CPU's slot.
 * Not seen by the cache: the LRU evicting a flow that is still active (under pressure), or the programs of a
 * restarting agent's predecessor deleting an entry (they count deletions in their own map). Such a flow keeps
 * passing for at most another second, as the allowed connection it was. Slots are only touched by their own CPU
 * from TC, which runs with bottom halves off, so a reader never sees a half-written slot. */
#define FLOW_CACHE_VALID_NS NS_PER_SEC
#define FLOW_CACHE_BITS 9
_Static_assert(FLOW_CACHE_SLOTS == 1 << FLOW_CACHE_BITS, "flow cache index width");

/* The slot of a flow: every word multiplied by its own odd constant and summed (independent multiplications, which
 * the CPU overlaps; a chain of eleven would cost ~30 cycles per packet), then mixed so the top bits depend on all. */
static __always_inline struct flow_cache_entry *flow_cache_slot(const struct bulwark_ct_key *key) {
    const __u32 *word = (const __u32 *)key;
    __u32 hash = 0;
    const __u32 odd[] = {0x9E3779B1u, 0x85EBCA77u, 0xC2B2AE3Du, 0x27D4EB2Fu, 0x165667B1u, 0xD3A2646Du,
                         0xFD7046C5u, 0xB55A4F09u, 0x7FEB352Du, 0x846CA68Bu, 0xE6546B65u};
    _Static_assert(sizeof(odd) == sizeof(*key), "one constant per key word");
#pragma unroll
    for (int i = 0; i < sizeof(*key) / 4; i++)
        hash += word[i] * odd[i];
    hash ^= hash >> 15;
    hash *= 0x2C1B3C6Du;
    __u32 index = hash >> (32 - FLOW_CACHE_BITS);
    return bpf_map_lookup_elem(&bulwark_flow_cache, &index);
}

static __always_inline int ct_key_equal(const struct bulwark_ct_key *a, const struct bulwark_ct_key *b) {
    const __u32 *x = (const __u32 *)a;
    const __u32 *y = (const __u32 *)b;
    __u32 difference = 0;
#pragma unroll
    for (int i = 0; i < sizeof(*a) / 4; i++)
        difference |= x[i] ^ y[i];
    return difference == 0;
}

static __always_inline void flow_cache_forget(const struct bulwark_ct_key *key) {
    struct flow_cache_entry *slot = flow_cache_slot(key);
    if (slot && ct_key_equal(&slot->key, key))
        slot->valid_until_ns = 0;
}

/* Returns 1 when the packet belongs to a live flow (updating the flow's state; `rule` and `slot` get the rule that
 * allowed it and its counter slot), 0 when policy must decide. */
static __always_inline int ct_lookup(const struct bulwark_ct_key *key, __u8 dir, const struct flow *f, __u32 *rule,
                                     __u16 *slot) {
    if (f->proto == IPPROTO_TCP && (f->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN)
        return 0;
    __u64 now = coarse_now();
    __u32 zero = 0;
    __u32 *deletions = bpf_map_lookup_elem(&bulwark_ct_deletions, &zero);
    int cacheable = deletions && !(f->proto == IPPROTO_TCP &&
                                   (f->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)));
    __u32 generation = deletions ? *(volatile __u32 *)deletions : 0;
    struct flow_cache_entry *cached = cacheable ? flow_cache_slot(key) : 0;
    if (cached && now < cached->valid_until_ns && cached->generation == generation &&
        ct_key_equal(&cached->key, key)) {
        *rule = cached->rule;
        *slot = cached->slot;
        return 1;
    }

    struct bulwark_ct_value *v = bpf_map_lookup_elem(&bulwark_conntrack, key);
    if (!v)
        return 0;
    if (now > v->last_seen_ns && now - v->last_seen_ns > ct_lifetime(v, f->proto))
        return 0;
    *rule = v->rule;
    *slot = v->slot;
    if (f->proto == IPPROTO_TCP) {
        if (f->tcp_flags & TCP_FLAG_RST) {
            bpf_map_delete_elem(&bulwark_conntrack, key); /* the RST itself passes */
            if (deletions)
                __sync_fetch_and_add(deletions, 1);
            return 1;
        }
        if (f->tcp_flags & TCP_FLAG_FIN)
            v->tcp_flags |= dir == BULWARK_DIR_INGRESS ? BULWARK_CT_FIN_INGRESS : BULWARK_CT_FIN_EGRESS;
    }
    if (now > v->last_seen_ns + NS_PER_SEC)
        v->last_seen_ns = now;
    if (cached) {
        __builtin_memcpy(&cached->key, key, sizeof(*key));
        cached->generation = generation;
        cached->valid_until_ns = now + FLOW_CACHE_VALID_NS;
        cached->rule = v->rule;
        cached->slot = v->slot;
    }
    return 1;
}

static __always_inline void ct_create(const struct bulwark_ct_key *key, __u8 dir, __u32 rule, __u16 slot,
                                      const struct flow *f) {
    if (f->proto == IPPROTO_TCP && (f->tcp_flags & TCP_FLAG_RST))
        return;
    struct bulwark_ct_value v = {
        .last_seen_ns = coarse_now(),
        .rule = rule,
        .origin = dir,
        .slot = slot,
    };
    bpf_map_update_elem(&bulwark_conntrack, key, &v, BPF_ANY);
    flow_cache_forget(key);
}

#endif
