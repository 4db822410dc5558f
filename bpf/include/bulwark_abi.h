/* The one definition of every BPF map key and value, shared by the BPF C code and Swift (via BPFShims).
 * Only <linux/types.h> types, explicit padding, and size asserts so kernel and user space cannot drift. */
#ifndef BULWARK_ABI_H
#define BULWARK_ABI_H
#include <linux/types.h>

#define BULWARK_ABI_VERSION 1

struct bulwark_endpoint {
    __u32 endpoint_id;
    __u8 ingress_isolated;
    __u8 egress_isolated;
    __u8 audit;
    __u8 pad;
};
_Static_assert(sizeof(struct bulwark_endpoint) == 8, "bulwark_endpoint ABI");

#endif
