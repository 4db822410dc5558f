/* Policy verdicts: ipcache lookup for the remote identity (the address copies first, then the trie), then the
 * policy of the exact identity and, when the endpoint has wildcard entries, of identity 0: a selector lookup each
 * (the selector copies first, then the hash), then the set's keys (copied into the selector value for small sets,
 * else in the hash or the LPM trie).
 * The semantics are DataplaneModel.PolicyEntry's: deny beats allow, separately for the enforced answer and the
 * audited answer; an audited drop that enforcement lets through is reported as an audit event. */
#ifndef BULWARK_POLICY_H
#define BULWARK_POLICY_H

struct verdict {
    __u8 drop;  /* enforced answer */
    __u8 audit; /* passes, but the audited answer says drop */
    __u16 slot; /* counter slot of (rule, allow or deny) */
    __u32 rule; /* rule of the enforced answer (0 = default deny) */
    __u32 audit_rule;
    __u16 audit_slot; /* counter slot of (audit_rule, audit) */
};

#define compiler_barrier() asm volatile("" ::: "memory")

/* The identity of a host address from its bulwark_address_cache bucket (see the ABI header): 1 with `identity`
 * set, 0 when only the trie can tell (no copy, or userspace wrote the bucket while it was read). */
static __always_inline int cached_identity(const struct flow *f, const __u8 *addr, __u32 *identity) {
    struct bulwark_address_key wanted = {.family = f->family};
    __builtin_memcpy(wanted.addr, addr, 16);
    __u32 index = bulwark_address_bucket_of(&wanted);
    struct bulwark_address_bucket *bucket = bpf_map_lookup_elem(&bulwark_address_cache, &index);
    if (!bucket)
        return 0;
    __u32 sequence = *(volatile __u32 *)&bucket->sequence;
    if (sequence & 1)
        return 0;
    compiler_barrier();
    const __u32 *w = (const __u32 *)&wanted;
    int found = 0;
#pragma unroll
    for (int way = 0; way < BULWARK_ADDRESS_WAYS; way++) {
        const __u32 *held = (const __u32 *)&bucket->keys[way];
        if (held[0] == w[0] && held[1] == w[1] && held[2] == w[2] && held[3] == w[3] && held[4] == w[4]) {
            *identity = bucket->identities[way];
            found = 1;
            break;
        }
    }
    compiler_barrier();
    return found && *(volatile __u32 *)&bucket->sequence == sequence;
}

static __always_inline __u32 remote_identity(const struct flow *f, const __u8 *addr) {
    __u32 cached = 0;
    if (cached_identity(f, addr, &cached))
        return cached;
    struct bulwark_ipcache_key key = {
        .prefixlen = BULWARK_IPCACHE_PREFIX_BASE + (f->family == 4 ? 32 : 128),
        .family = f->family,
    };
    __builtin_memcpy(key.addr, addr, 16);
    struct bulwark_ipcache_value *v = bpf_map_lookup_elem(&bulwark_ipcache, &key);
    return v ? v->identity : BULWARK_IDENTITY_WORLD;
}

static __always_inline int has_ports(__u8 proto) {
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

/* The folded value of the longest key of `set` covering (proto, dport) (see BULWARK_SET_* in the ABI header). */
static __always_inline struct bulwark_policy_value *set_lookup(__u32 set, __u8 proto, __be16 dport) {
    if (set & BULWARK_SET_RANGES) {
        struct bulwark_policy_key key = {.prefixlen = BULWARK_POLICY_PREFIX_FULL, .set_id = set, .proto = proto};
        __builtin_memcpy(key.dport, &dport, 2);
        return bpf_map_lookup_elem(&bulwark_policy, &key);
    }
    struct bulwark_policy_exact_key key = {.set_id = set, .proto = proto};
    struct bulwark_policy_value *v;
    /* Only TCP, UDP and SCTP entries have single-port keys. */
    if ((set & BULWARK_SET_PORTS) && has_ports(proto)) {
        key.prefixlen = BULWARK_POLICY_PREFIX_FULL;
        __builtin_memcpy(key.dport, &dport, 2);
        v = bpf_map_lookup_elem(&bulwark_policy_exact, &key);
        if (v)
            return v;
        key.dport[0] = key.dport[1] = 0;
    }
    if (set & BULWARK_SET_PROTO) {
        key.prefixlen = BULWARK_POLICY_PREFIX_PROTO;
        v = bpf_map_lookup_elem(&bulwark_policy_exact, &key);
        if (v)
            return v;
    }
    if (!(set & BULWARK_SET_ANY))
        return (void *)0;
    key.proto = 0;
    key.prefixlen = BULWARK_POLICY_PREFIX_SET;
    return bpf_map_lookup_elem(&bulwark_policy_exact, &key);
}

/* The same answer from a small set's keys copied into the selector value, without a further lookup: a set without
 * ranges has at most one key per length covering a packet, and the longest carries the folded answer. Scans the
 * first `keys` keys (a constant: the loop is unrolled). */
static __always_inline void inline_lookup(const struct bulwark_selector_value *sel, __u8 proto, __be16 dport,
                                          struct bulwark_policy_value *out, const int keys) {
    __u8 best_len = 0;
#pragma unroll
    for (int i = 0; i < keys && i < BULWARK_SELECTOR_INLINE; i++) {
        if (i >= sel->inline_count)
            break;
        const struct bulwark_inline_key *k = &sel->keys[i];
        __be16 port;
        __builtin_memcpy(&port, k->dport, 2);
        int covers = k->prefixlen == BULWARK_POLICY_PREFIX_SET ||
                     (k->proto == proto &&
                      (k->prefixlen == BULWARK_POLICY_PREFIX_PROTO ||
                       (k->prefixlen == BULWARK_POLICY_PREFIX_FULL && port == dport)));
        if (covers && k->prefixlen > best_len) {
            *out = sel->values[i];
            best_len = k->prefixlen;
        }
    }
}

enum cached { CACHE_UNSURE, CACHE_NO_SELECTOR, CACHE_INLINE, CACHE_SET };

/* The selector from the bulwark_selector_cache bucket (see the ABI header): CACHE_INLINE with `out` filled (left as
 * is when no key covers the packet), CACHE_SET with `set` the set to look up, CACHE_NO_SELECTOR, or CACHE_UNSURE
 * when only the hash can tell (the bucket is incomplete, the selector has more than `keys` keys, or userspace wrote
 * the bucket while it was read). `out` and `set` come zeroed and are zero again with CACHE_UNSURE. */
static __always_inline enum cached cached_selector(const struct bulwark_selector_key *key, __u8 proto, __be16 dport,
                                                   struct bulwark_policy_value *out, __u32 *set, const int keys) {
    __u32 index = bulwark_selector_bucket_of(key);
    struct bulwark_selector_bucket *bucket = bpf_map_lookup_elem(&bulwark_selector_cache, &index);
    if (!bucket)
        return CACHE_UNSURE;
    __u32 sequence = *(volatile __u32 *)&bucket->sequence;
    if (sequence & 1)
        return CACHE_UNSURE;
    compiler_barrier();
    enum cached answer = bucket->complete ? CACHE_NO_SELECTOR : CACHE_UNSURE;
    const __u32 *wanted = (const __u32 *)key;
    __u32 hit = BULWARK_SELECTOR_WAYS;
#pragma unroll
    for (int way = 0; way < BULWARK_SELECTOR_WAYS; way++) {
        const __u32 *held = (const __u32 *)&bucket->keys[way];
        if (held[0] == wanted[0] && held[1] == wanted[1] && held[2] == wanted[2]) {
            hit = way;
            break;
        }
    }
    if (hit < BULWARK_SELECTOR_WAYS) {
        const struct bulwark_selector_value *sel = &bucket->values[hit & (BULWARK_SELECTOR_WAYS - 1)];
        if (sel->inline_count > keys) {
            answer = CACHE_UNSURE;
        } else if (sel->inline_count) {
            inline_lookup(sel, proto, dport, out, keys);
            answer = CACHE_INLINE;
        } else {
            *set = sel->set_id;
            answer = CACHE_SET;
        }
    }
    compiler_barrier();
    if (*(volatile __u32 *)&bucket->sequence != sequence) {
        /* A torn read: forget what it filled in. */
        __builtin_memset(out, 0, sizeof(*out));
        *set = 0;
        return CACHE_UNSURE;
    }
    return answer;
}

/* Copies the policy value covering (proto, dport) for one selector into `out` (zeroed by the caller, left as is when
 * none does): from `set` when the caller's bucket lookup named one, else (set 0) from the selector bucket and,
 * when that cannot answer, the selector hash.
 * A global function, so the verifier checks it once rather than on every path through the program: the value
 * comes from one of three maps, and the inline scan branches per key, which multiplied the verifier's states. */
__attribute__((noinline)) int bulwark_policy_lookup(const struct bulwark_selector_key *selector, __u32 proto_port,
                                                    __u32 set, struct bulwark_policy_value *out) {
    if (!selector || !out)
        return 0;
    __u8 proto = proto_port >> 16;
    __be16 dport = proto_port & 0xffff;
    if (!set) {
        enum cached answer = cached_selector(selector, proto, dport, out, &set, BULWARK_SELECTOR_INLINE);
        if (answer == CACHE_NO_SELECTOR || answer == CACHE_INLINE)
            return 0;
        if (answer == CACHE_UNSURE) {
            struct bulwark_selector_value *sel = bpf_map_lookup_elem(&bulwark_selectors, selector);
            if (!sel)
                return 0;
            if (sel->inline_count) {
                inline_lookup(sel, proto, dport, out, BULWARK_SELECTOR_INLINE);
                return 0;
            }
            set = sel->set_id;
        }
    }
    struct bulwark_policy_value *v = set_lookup(set, proto, dport);
    if (v)
        *out = *v;
    return 0;
}

/* How many of a selector's copied keys the main program scans in line. Most selectors hold one or two keys (a port,
 * a port and ICMP); larger ones take the global function. Each key scanned in line is verified once per path that
 * reaches the lookup: two keys verify ~230,000 instructions for from_container (~105,000 with none in line), four
 * ~350,000 (a load then takes ~2 s). */
#define INLINE_FAST_KEYS 2

/* Copies the policy value covering the packet for one remote identity into `out` (zeroed by the caller, left as is
 * when none does). For the exact identity the selector bucket is read in line, which answers most packets without
 * the global function (its call and return cost ~7-10 ns per packet on the development VM, whose kernel pays for
 * every return: SRSO "safe RET"); a set's keys, a selector with more keys, or a bucket that cannot answer take it.
 * Identity 0 (wildcard entries, the rarer case) always takes it, rather than verifying a second scan. */
static __always_inline void policy_lookup(const struct bulwark_endpoint_slot *ep, __u8 dir, __u32 identity,
                                          const struct flow *f, struct bulwark_policy_value *out) {
    /* ICMP echo ids are ports for conntrack only. */
    __be16 dport = f->icmp_echo ? 0 : f->dport;
    struct bulwark_selector_key selector = {
        .endpoint = ep->ifindex, .identity = identity, .dir_epoch = dir | (ep->policy_epoch << 1)};
    __u32 set = 0;
    if (identity != BULWARK_IDENTITY_ANY) {
        enum cached answer = cached_selector(&selector, f->proto, dport, out, &set, INLINE_FAST_KEYS);
        if (answer == CACHE_NO_SELECTOR || answer == CACHE_INLINE)
            return;
    }
    bulwark_policy_lookup(&selector, (__u32)f->proto << 16 | dport, set, out);
}

static __always_inline void decide(const struct bulwark_endpoint_slot *ep, __u8 dir, __u8 isolation, __u32 identity,
                                   const struct flow *f, struct verdict *out) {
    struct bulwark_policy_value exact = {}, any = {};
    policy_lookup(ep, dir, identity, f, &exact);
    __u8 wildcard = dir == BULWARK_DIR_INGRESS ? BULWARK_ENDPOINT_WILDCARD_INGRESS : BULWARK_ENDPOINT_WILDCARD_EGRESS;
    if (ep->flags & wildcard)
        policy_lookup(ep, dir, BULWARK_IDENTITY_ANY, f, &any);
    __u32 flags = exact.flags | any.flags;
    /* The node itself (kubelet probes) may reach its pods unless a rule explicitly denies it. */
    int host_exempt = dir == BULWARK_DIR_INGRESS && identity == BULWARK_IDENTITY_HOST;

    /* Each answer's rule comes from the exact-identity value when it has the deciding flag, else from identity 0. */
    if (flags & (BULWARK_POLICY_ENFORCE_DENY | BULWARK_POLICY_ENFORCE_ALLOW)) {
        __u32 flag = flags & BULWARK_POLICY_ENFORCE_DENY ? BULWARK_POLICY_ENFORCE_DENY : BULWARK_POLICY_ENFORCE_ALLOW;
        const struct bulwark_policy_value *by = exact.flags & flag ? &exact : &any;
        out->drop = flag == BULWARK_POLICY_ENFORCE_DENY;
        out->rule = by->enforce_rule;
        out->slot = by->enforce_slot;
    } else {
        out->drop = isolation == BULWARK_ISOLATION_ENFORCE && !host_exempt;
        out->rule = 0;
        out->slot = out->drop ? BULWARK_SLOT_DEFAULT_DENY : BULWARK_SLOT_DEFAULT_ALLOW;
    }
    if (out->drop)
        return;
    if (flags & BULWARK_POLICY_AUDIT_DENY) {
        const struct bulwark_policy_value *by = exact.flags & BULWARK_POLICY_AUDIT_DENY ? &exact : &any;
        out->audit = 1;
        out->audit_rule = by->audit_rule;
        out->audit_slot = by->audit_slot;
    } else if (!(flags & BULWARK_POLICY_AUDIT_ALLOW) && !host_exempt) {
        out->audit = 1; /* isolation >= audit here, else decide() is not called */
        out->audit_rule = 0;
        out->audit_slot = BULWARK_SLOT_DEFAULT_AUDIT;
    }
}

#endif
