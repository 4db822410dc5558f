/* Bulwark policy datapath: two TC (clsact) programs on the host side of each local pod's veth.
 *
 *   from_container  host-veth TC ingress: packets leaving the pod  -> the pod's EGRESS policy
 *   to_container    host-veth TC egress:  packets entering the pod -> the pod's INGRESS policy
 *
 * Per packet: endpoint config by ifindex (an inlined slot array, the hash only when two interfaces share a slot;
 * unknown interface: pass, nothing else looked up) -> parse (headers read in place, copied only from a non-linear
 * skb) -> conntrack (this CPU's cache of flows confirmed within the last second, else the LRU hash; live
 * flow: pass) -> if this direction is isolated: ipcache (remote identity, miss = world; pod
 * addresses from an inlined bucket of copies, other addresses and prefixes from the LPM trie), then
 * per identity (exact; identity 0 only when the endpoint has wildcard entries) a selector, from an inlined bucket
 * of copies (the selector hash when the bucket cannot answer), which holds small policy sets whole; larger sets take
 * one to three exact hash lookups of (set, protocol, port),
 * sets with port ranges one LPM lookup -> verdict -> on pass, a conntrack entry so replies and later packets pass.
 * A direction that is not isolated does no policy lookup. Only the LPM tries get deeper as they fill (the ipcache
 * with the cluster's prefixes, the policy trie with range sets' keys); selector and set lookups are hashes, so the
 * common cost per packet does not grow with the number of rules. Every counted packet adds to its rule's per-CPU
 * array slot (an inlined index; rules past the slots are counted in a hash, see BULWARK_RULE_SLOTS).
 * Where the time goes (BPF_PROG_TEST_RUN on the 2-core development VM, whose kernel pays for every function return
 * (SRSO "safe RET" mitigation)): ~40 ns for the test-run loop and an empty program; array lookups (endpoint slot,
 * counters, statistics, clock cache, selector buckets) are inlined and cost ~1 ns; every lookup that is a kernel
 * call costs ~12 ns (LPM trie, 1 entry) to ~35 ns (hash hit, which is why selectors are copied into buckets), ~40 ns
 * for the conntrack LRU hash; the call of the global policy function ~9 ns (made only when the selector bucket cannot
 * answer in line: a set's keys, a selector of more than two keys, identity 0); parsing ~3 ns. The conntrack key is
 * built only for tracked packets. Helper calls that the verifier does not inline are kept off the common path
 * (bpf_skb_load_bytes only for non-linear headers, the coarse clock once per tick and CPU).
 *
 * Documented rules:
 * - Non-IP frames (ARP, ...) pass. ICMPv6 neighbour discovery (types 133-137) passes: IPv6 needs it to work at all.
 * - Malformed or truncated IP/L4 headers, or more than 8 IPv6 extension headers: dropped in an isolated direction
 *   (counted as malformed, deny event with reason "malformed"), passed otherwise.
 * - Fragments: a first fragment (offset 0, more to come) is judged like any packet and, when it passes, records its
 *   ports keyed by (family, proto, src, dst, fragment id); later fragments take those ports and are judged (via
 *   conntrack or policy) like the first. A later fragment whose first fragment was not seen (or was dropped) is
 *   dropped in an isolated direction (reason "fragment").
 * - Host identity: in the ingress direction, traffic from identity 1 (the node: kubelet probes) passes when no deny
 *   entry matches it, even under default deny; egress to the node follows policy like any peer.
 * - ICMP errors (unreachable/fragmentation needed, time exceeded, parameter problem; ICMPv6 1-4 incl. packet too big)
 *   that quote a packet of a tracked flow of this endpoint pass as related traffic (path MTU discovery keeps working
 *   for allowed connections); other ICMP is judged by policy as protocol ICMP/ICMPv6 with port 0.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bulwark_abi.h"
#include "lib/maps.h"
#include "lib/endpoint.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/conntrack.h"
#include "lib/events.h"

static __always_inline int is_neighbour_discovery(const struct flow *f) {
    return f->proto == IPPROTO_ICMPV6 && f->icmp_type >= 133 && f->icmp_type <= 137;
}

static __always_inline void frag_key_from(struct bulwark_frag_key *key, const struct flow *f) {
    key->family = f->family;
    key->proto = f->proto;
    key->id = f->frag_id;
    __builtin_memcpy(key->saddr, f->saddr, 16);
    __builtin_memcpy(key->daddr, f->daddr, 16);
}

static __always_inline int handle(struct __sk_buff *skb, __u8 dir) {
    struct bulwark_endpoint_slot config, *ep = &config;
    if (!endpoint_config(skb->ifindex, ep))
        return TC_ACT_OK;
    /* Flows are tracked even where neither direction is isolated, so isolating a direction later keeps the
     * replies of connections opened before (hitless: they were allowed before and are allowed after). */
    __u8 isolation = dir == BULWARK_DIR_INGRESS ? ep->ingress_isolation : ep->egress_isolation;

    struct flow f = {};
    int parsed = parse_packet(skb, &f);
    if (parsed == PARSE_NOT_IP)
        return TC_ACT_OK;
    if (parsed == PARSE_MALFORMED) {
        if (isolation == BULWARK_ISOLATION_NONE)
            return TC_ACT_OK;
        stat_inc(BULWARK_STAT_MALFORMED);
        count(0, BULWARK_SLOT_DEFAULT_DENY, BULWARK_VERDICT_DENY, skb->len);
        emit(skb, &f, dir, 0, 0, BULWARK_VERDICT_DENY, BULWARK_REASON_MALFORMED);
        return TC_ACT_SHOT;
    }
    if (is_neighbour_discovery(&f))
        return TC_ACT_OK;

    if (f.later_fragment) {
        struct bulwark_frag_key fkey = {};
        frag_key_from(&fkey, &f);
        struct bulwark_frag_value *ports = bpf_map_lookup_elem(&bulwark_fragments, &fkey);
        if (!ports) {
            if (isolation == BULWARK_ISOLATION_NONE)
                return TC_ACT_OK;
            stat_inc(BULWARK_STAT_FRAGMENT_UNKNOWN);
            count(0, BULWARK_SLOT_DEFAULT_DENY, BULWARK_VERDICT_DENY, skb->len);
            emit(skb, &f, dir, 0, 0, BULWARK_VERDICT_DENY, BULWARK_REASON_FRAGMENT);
            return TC_ACT_SHOT;
        }
        f.sport = ports->sport;
        f.dport = ports->dport;
    }

    if (!f.later_fragment && icmp_is_error(&f)) {
        /* The quoted packet travelled the other way: sent by the pod for errors entering it, and vice versa. */
        struct flow quoted = {};
        if (parse_quoted(skb, &f, &quoted) == PARSE_OK && ct_tracked(&quoted)) {
            struct bulwark_ct_key related = {};
            ct_key_from(&related, ep->ifindex, dir ^ 1, &quoted);
            struct bulwark_ct_value *flow = bpf_map_lookup_elem(&bulwark_conntrack, &related);
            if (flow) {
                stat_inc(BULWARK_STAT_CT_HIT);
                count(flow->rule, flow->slot, BULWARK_VERDICT_ALLOW, skb->len);
                return TC_ACT_OK;
            }
        }
    }

    /* Built only for tracked packets: ICMP other than echo and other protocols are judged by policy alone. */
    struct bulwark_ct_key ckey;
    int tracked = ct_tracked(&f);
    if (tracked) {
        __builtin_memset(&ckey, 0, sizeof(ckey));
        ct_key_from(&ckey, ep->ifindex, dir, &f);
        __u32 flow_rule = 0;
        __u16 flow_slot = 0;
        if (ct_lookup(&ckey, dir, &f, &flow_rule, &flow_slot)) {
            stat_inc(BULWARK_STAT_CT_HIT);
            count(flow_rule, flow_slot, BULWARK_VERDICT_ALLOW, skb->len);
            goto pass;
        }
    }

    struct verdict v = {};
    __u32 identity = 0;
    if (isolation != BULWARK_ISOLATION_NONE) {
        identity = remote_identity(&f, dir == BULWARK_DIR_EGRESS ? f.daddr : f.saddr);
        decide(ep, dir, isolation, identity, &f, &v);
        if (v.drop) {
            stat_inc(BULWARK_STAT_POLICY_DENY);
            count(v.rule, v.slot, BULWARK_VERDICT_DENY, skb->len);
            emit(skb, &f, dir, identity, v.rule, BULWARK_VERDICT_DENY, BULWARK_REASON_POLICY);
            return TC_ACT_SHOT;
        }
        if (v.audit) {
            stat_inc(BULWARK_STAT_AUDIT);
            count(v.audit_rule, v.audit_slot, BULWARK_VERDICT_AUDIT, skb->len);
            emit(skb, &f, dir, identity, v.audit_rule, BULWARK_VERDICT_AUDIT, BULWARK_REASON_POLICY);
        }
        stat_inc(BULWARK_STAT_POLICY_ALLOW);
        count(v.rule, v.slot, BULWARK_VERDICT_ALLOW, skb->len);
    }
    if (tracked)
        ct_create(&ckey, dir, v.rule, v.slot, &f);

pass:
    if (f.first_fragment) {
        struct bulwark_frag_key fkey = {};
        frag_key_from(&fkey, &f);
        struct bulwark_frag_value ports = {.sport = f.sport, .dport = f.dport};
        bpf_map_update_elem(&bulwark_fragments, &fkey, &ports, BPF_ANY);
    }
    return TC_ACT_OK;
}

/* Host-veth TC ingress: packets leaving the container, judged by the pod's egress policy. */
SEC("tc")
int from_container(struct __sk_buff *skb) { return handle(skb, BULWARK_DIR_EGRESS); }

/* Host-veth TC egress: packets entering the container, judged by the pod's ingress policy. */
SEC("tc")
int to_container(struct __sk_buff *skb) { return handle(skb, BULWARK_DIR_INGRESS); }

char LICENSE[] SEC("license") = "GPL";
