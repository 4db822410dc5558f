/* Endpoint configuration of the interface a packet is on: the inlined slot array first, the hash when the slot
 * belongs to another interface (see struct bulwark_endpoint_slot). */
#ifndef BULWARK_ENDPOINT_H
#define BULWARK_ENDPOINT_H

/* Fills `out` and returns 1 for a known endpoint; returns 0 for any other interface. */
static __always_inline int endpoint_config(__u32 ifindex, struct bulwark_endpoint_slot *out) {
    __u32 index = ifindex % BULWARK_ENDPOINT_SLOTS;
    struct bulwark_endpoint_slot *slot = bpf_map_lookup_elem(&bulwark_endpoint_slots, &index);
    if (slot) {
        /* One 8-byte load: userspace replaces a slot with one atomic store, so owner and config match. */
        __u64 word = *(volatile __u64 *)slot;
        __builtin_memcpy(out, &word, sizeof(word));
        if (out->ifindex == ifindex)
            return 1;
    }
    struct bulwark_endpoint *ep = bpf_map_lookup_elem(&bulwark_endpoints, &ifindex);
    if (!ep)
        return 0;
    out->ifindex = ifindex;
    out->ingress_isolation = ep->ingress_isolation;
    out->egress_isolation = ep->egress_isolation;
    out->policy_epoch = ep->policy_epoch;
    out->flags = ep->flags;
    return 1;
}

#endif
