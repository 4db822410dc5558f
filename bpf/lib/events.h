/* Counters (per rule and verdict, per CPU; see BULWARK_RULE_SLOTS), global statistics, and deny/audit events on the
 * ring buffer. */
#ifndef BULWARK_EVENTS_H
#define BULWARK_EVENTS_H

static __always_inline void stat_inc(__u32 index) {
    __u64 *v = bpf_map_lookup_elem(&bulwark_stats, &index);
    if (v)
        *v += 1;
}

/* Counts a packet for (rule, verdict): in its slot when it has one (an inlined array index), else in the hash. */
static __always_inline void count(__u32 rule, __u16 slot, __u32 verdict, __u32 bytes) {
    if (slot < BULWARK_RULE_SLOTS) {
        __u32 index = slot;
        struct bulwark_counter_value *c = bpf_map_lookup_elem(&bulwark_slot_counters, &index);
        if (c) {
            c->packets += 1;
            c->bytes += bytes;
        }
        return;
    }
    struct bulwark_counter_key key = {.rule = rule, .verdict = verdict};
    struct bulwark_counter_value *v = bpf_map_lookup_elem(&bulwark_counters, &key);
    if (v) {
        v->packets += 1;
        v->bytes += bytes;
        return;
    }
    struct bulwark_counter_value init = {.packets = 1, .bytes = bytes};
    bpf_map_update_elem(&bulwark_counters, &key, &init, BPF_NOEXIST);
}

static __always_inline void emit(struct __sk_buff *skb, const struct flow *f, __u8 dir, __u32 identity, __u32 rule,
                                 __u8 verdict, __u8 reason) {
    struct bulwark_event *e = bpf_ringbuf_reserve(&bulwark_events, sizeof(*e), 0);
    if (!e) {
        stat_inc(BULWARK_STAT_EVENTS_LOST);
        return;
    }
    e->timestamp_ns = bpf_ktime_get_ns();
    e->ifindex = skb->ifindex;
    e->identity = identity;
    e->rule = rule;
    e->verdict = verdict;
    e->direction = dir;
    e->proto = f->proto;
    e->family = f->family;
    __builtin_memcpy(e->saddr, f->saddr, 16);
    __builtin_memcpy(e->daddr, f->daddr, 16);
    e->sport = f->sport;
    e->dport = f->dport;
    e->reason = reason;
    e->pad[0] = e->pad[1] = e->pad[2] = 0;
    bpf_ringbuf_submit(e, 0);
}

#endif
