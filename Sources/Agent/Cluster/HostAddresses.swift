import DataplaneModel

#if canImport(Glibc)
    import Glibc
#endif

/// The addresses of this host's interfaces, which get the `host` identity.
///
/// Why: Kubernetes always allows traffic between a node and its pods (kubelet probes), and the agent runs with
/// `hostNetwork`, so the addresses it sees are the node's. Loopback is left out; it never reaches a pod veth.
enum HostAddresses {
    static func current() -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: Set<IPAddress> = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let socketAddress = entry.pointee.ifa_addr else { continue }
            switch Int32(socketAddress.pointee.sa_family) {
            case AF_INET:
                let value = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt32(bigEndian: $0.pointee.sin_addr.s_addr)
                }
                if value >> 24 != 127 { addresses.insert(.v4(value)) }
            case AF_INET6:
                let bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
                }
                let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if !(high == 0 && low == 1) && bytes[0] != 0xFE { addresses.insert(.v6(high, low)) }
            default:
                continue
            }
        }
        return addresses.sorted()
    }
}
