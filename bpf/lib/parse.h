/* Bounds-checked header parsing into a flow description. Headers are read in place when the skb's linear data
 * holds them (the common case: plain loads), else copied with bpf_skb_load_bytes, which fails on short packets
 * instead of reading past the end, so a truncated packet can only yield PARSE_MALFORMED. */
#ifndef BULWARK_PARSE_H
#define BULWARK_PARSE_H

#define PARSE_OK 0
#define PARSE_NOT_IP 1
#define PARSE_MALFORMED 2

#define IPV6_MAX_EXT_HEADERS 8

struct flow {
    __u8 family;
    __u8 proto;
    __u8 tcp_flags;
    __u8 first_fragment; /* offset 0 with more fragments to come: record ports for the rest */
    __u8 later_fragment; /* offset > 0: no L4 header here; ports come from the fragment map */
    __u8 icmp_echo;      /* echo request or reply: ports hold the echo id */
    __u8 icmp_type;
    __u8 pad;
    __u32 frag_id;
    __u32 l4_off; /* where the transport header starts (ICMP errors quote a packet after their 8 bytes) */
    __be16 sport;
    __be16 dport;
    __u8 saddr[16];
    __u8 daddr[16];
};

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

/* `len` bytes of header at `off`: a pointer into the packet when its linear part holds them, else a copy in `buf`
 * (non-linear skb), or null when the packet is shorter. */
static __always_inline const void *header(struct __sk_buff *skb, __u32 off, __u32 len, void *buf) {
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    if (off <= 0xffff) { /* bounds the variable offset for the verifier */
        void *p = data + off;
        if (p + len <= end)
            return p;
    }
    return bpf_skb_load_bytes(skb, off, buf, len) < 0 ? (void *)0 : buf;
}

static __always_inline int parse_l4(struct __sk_buff *skb, __u32 off, struct flow *f) {
    __u8 copy[14];
    const __u8 *l4;
    f->l4_off = off;
    switch (f->proto) {
    case IPPROTO_TCP:
        /* ports (4) ... flags at byte 13; demand the full 20-byte header */
        l4 = header(skb, off, 14, copy);
        if (!l4 || skb->len < off + 20)
            return PARSE_MALFORMED;
        __builtin_memcpy(&f->sport, l4, 2);
        __builtin_memcpy(&f->dport, l4 + 2, 2);
        f->tcp_flags = l4[13];
        return PARSE_OK;
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
        /* UDP header is 8 bytes, SCTP common header 12; ports come first in both */
        l4 = header(skb, off, 8, copy);
        if (!l4 || (f->proto == IPPROTO_SCTP && skb->len < off + 12))
            return PARSE_MALFORMED;
        __builtin_memcpy(&f->sport, l4, 2);
        __builtin_memcpy(&f->dport, l4 + 2, 2);
        return PARSE_OK;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        l4 = header(skb, off, 8, copy);
        if (!l4)
            return PARSE_MALFORMED;
        f->icmp_type = l4[0];
        if ((f->proto == IPPROTO_ICMP && (l4[0] == 8 || l4[0] == 0)) ||
            (f->proto == IPPROTO_ICMPV6 && (l4[0] == 128 || l4[0] == 129))) {
            f->icmp_echo = 1;
            __builtin_memcpy(&f->sport, l4 + 4, 2); /* echo id */
        }
        return PARSE_OK;
    default:
        return PARSE_OK; /* other protocols: no ports, judged by protocol-wide entries */
    }
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, struct flow *f) {
    struct iphdr copy;
    const struct iphdr *ip = header(skb, ETH_HLEN, sizeof(copy), &copy);
    if (!ip || ip->version != 4 || ip->ihl < 5)
        return PARSE_MALFORMED;
    f->family = 4;
    f->proto = ip->protocol;
    __builtin_memcpy(f->saddr, &ip->saddr, 4);
    __builtin_memcpy(f->daddr, &ip->daddr, 4);
    __u16 frag = bpf_ntohs(ip->frag_off);
    f->frag_id = ip->id;
    if (frag & 0x1fff) {
        f->later_fragment = 1;
        return PARSE_OK;
    }
    if (frag & 0x2000)
        f->first_fragment = 1;
    return parse_l4(skb, ETH_HLEN + ip->ihl * 4, f);
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, struct flow *f) {
    struct ipv6hdr copy;
    const struct ipv6hdr *ip6 = header(skb, ETH_HLEN, sizeof(copy), &copy);
    if (!ip6 || ip6->version != 6)
        return PARSE_MALFORMED;
    f->family = 6;
    __builtin_memcpy(f->saddr, &ip6->saddr, 16);
    __builtin_memcpy(f->daddr, &ip6->daddr, 16);
    __u8 next = ip6->nexthdr;
    __u32 off = ETH_HLEN + sizeof(copy);
    /* Bounded walk over extension headers (hop-by-hop, routing, destination options, fragment, AH). */
    for (int i = 0; i < IPV6_MAX_EXT_HEADERS; i++) {
        __u8 ext[8];
        switch (next) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
            if (bpf_skb_load_bytes(skb, off, ext, 2) < 0)
                return PARSE_MALFORMED;
            next = ext[0];
            off += ((__u32)ext[1] + 1) * 8;
            break;
        case IPPROTO_AH:
            if (bpf_skb_load_bytes(skb, off, ext, 2) < 0)
                return PARSE_MALFORMED;
            next = ext[0];
            off += ((__u32)ext[1] + 2) * 4;
            break;
        case IPPROTO_FRAGMENT: {
            if (bpf_skb_load_bytes(skb, off, ext, 8) < 0)
                return PARSE_MALFORMED;
            next = ext[0];
            __u16 frag = ((__u16)ext[2] << 8) | ext[3];
            __builtin_memcpy(&f->frag_id, ext + 4, 4);
            off += 8;
            if (frag & 0xfff8) {
                f->proto = next;
                f->later_fragment = 1;
                return PARSE_OK;
            }
            if (frag & 0x1)
                f->first_fragment = 1;
            break;
        }
        default:
            f->proto = next;
            return parse_l4(skb, off, f);
        }
    }
    return PARSE_MALFORMED; /* more extension headers than we walk: fail closed where isolated */
}

/* ICMP errors (destination unreachable incl. fragmentation needed, time exceeded, parameter problem; ICMPv6 1-4
 * incl. packet too big) concern a flow: they pass when that flow is tracked, else policy judges them as ICMP. */
static __always_inline int icmp_is_error(const struct flow *f) {
    if (f->proto == IPPROTO_ICMP)
        return f->icmp_type == 3 || f->icmp_type == 11 || f->icmp_type == 12;
    return f->proto == IPPROTO_ICMPV6 && f->icmp_type >= 1 && f->icmp_type <= 4;
}

/* Parses the packet an ICMP error quotes (IP header + first 8 transport bytes) into `quoted`. */
static __always_inline int parse_quoted(struct __sk_buff *skb, const struct flow *f, struct flow *quoted) {
    __u32 off = f->l4_off + 8;
    if (f->family == 4) {
        struct iphdr ip;
        if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0 || ip.version != 4 || ip.ihl < 5)
            return PARSE_MALFORMED;
        quoted->family = 4;
        quoted->proto = ip.protocol;
        __builtin_memcpy(quoted->saddr, &ip.saddr, 4);
        __builtin_memcpy(quoted->daddr, &ip.daddr, 4);
        off += ip.ihl * 4;
    } else {
        struct ipv6hdr ip6;
        if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0 || ip6.version != 6)
            return PARSE_MALFORMED;
        quoted->family = 6;
        quoted->proto = ip6.nexthdr;
        __builtin_memcpy(quoted->saddr, &ip6.saddr, 16);
        __builtin_memcpy(quoted->daddr, &ip6.daddr, 16);
        off += sizeof(ip6);
    }
    __u8 l4[8];
    if (bpf_skb_load_bytes(skb, off, l4, 8) < 0)
        return PARSE_MALFORMED;
    __builtin_memcpy(&quoted->sport, l4, 2);
    __builtin_memcpy(&quoted->dport, l4 + 2, 2);
    if ((quoted->proto == IPPROTO_ICMP && l4[0] == 8) || (quoted->proto == IPPROTO_ICMPV6 && l4[0] == 128)) {
        quoted->icmp_echo = 1;
        __builtin_memcpy(&quoted->sport, l4 + 4, 2);
    }
    return PARSE_OK;
}

static __always_inline int parse_packet(struct __sk_buff *skb, struct flow *f) {
    if (skb->protocol == bpf_htons(ETH_P_IP))
        return parse_ipv4(skb, f);
    if (skb->protocol == bpf_htons(ETH_P_IPV6))
        return parse_ipv6(skb, f);
    return PARSE_NOT_IP;
}

#endif
