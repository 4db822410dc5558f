// Placeholder programs; replaced by the policy datapath (issue 4).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bulwark_abi.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, struct bulwark_endpoint);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} bulwark_endpoints SEC(".maps");

SEC("tc")
int from_container(struct __sk_buff *skb) { return TC_ACT_OK; }

char LICENSE[] SEC("license") = "GPL";
