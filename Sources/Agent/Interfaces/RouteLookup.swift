import DataplaneModel

#if canImport(Glibc)
    import Glibc
#endif

/// Asks the kernel which interface routes to an address (the netlink equivalent of `ip route get ADDRESS`).
///
/// Why: routed CNIs such as kindnet install one host route per local pod (`10.244.1.5 dev vethXXXX scope host`),
/// so the route to a pod's IP names its host-side veth. This is a thin wrapper over one netlink round trip.
enum RouteLookup {
    struct Route: Equatable {
        var ifindex: UInt32
        /// True when the route goes through a gateway (the address is not directly on this interface).
        var viaGateway: Bool
    }

    /// `NETLINK_ROUTE` from <linux/netlink.h>, which Glibc's module does not export.
    private static let netlinkRoute: Int32 = 0
    private static let rtmGetRoute: UInt16 = 26
    private static let rtmNewRoute: UInt16 = 24
    private static let nlmsgError: UInt16 = 2
    private static let nlmFRequest: UInt16 = 1
    private static let rtaDst: UInt16 = 1
    private static let rtaOif: UInt16 = 4
    private static let rtaGateway: UInt16 = 5

    /// The route the kernel would use to reach `address`, or an errno-carrying error.
    static func route(to address: IPAddress) throws(InterfaceResolutionError) -> Route {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkRoute)
        guard fd >= 0 else { throw .system(operation: "netlink socket", errno: errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let request = makeRequest(address)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { throw .system(operation: "netlink send", errno: errno) }

        var reply = [UInt8](repeating: 0, count: 8192)
        let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 16 else { throw .system(operation: "netlink recv", errno: count < 0 ? errno : EIO) }
        return try parse(Array(reply[0..<count]), address: address)
    }

    private static func makeRequest(_ address: IPAddress) -> [UInt8] {
        let addressBytes = address.bytes
        let attributeLength = 4 + addressBytes.count
        let total = 16 + 12 + attributeLength
        var message: [UInt8] = []
        message.append(littleEndian: UInt32(total))
        message.append(littleEndian: rtmGetRoute)
        message.append(littleEndian: nlmFRequest)
        message.append(littleEndian: UInt32(1))  // sequence
        message.append(littleEndian: UInt32(0))  // port id: the kernel
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags(u32)
        message += [UInt8(address.isV4 ? AF_INET : AF_INET6), UInt8(address.bitWidth), 0, 0, 0, 0, 0, 0]
        message.append(littleEndian: UInt32(0))
        message.append(littleEndian: UInt16(attributeLength))
        message.append(littleEndian: rtaDst)
        message += addressBytes
        return message
    }

    private static func parse(_ reply: [UInt8], address: IPAddress) throws(InterfaceResolutionError) -> Route {
        let type = reply.readUInt16(at: 4)
        if type == nlmsgError {
            let code = Int32(bitPattern: reply.readUInt32(at: 16))
            throw code == 0
                ? .noRoute(address)
                : (code == -ENETUNREACH
                    ? .noRoute(address)
                    : .system(
                        operation: "route lookup for \(address)", errno: -code))
        }
        guard type == rtmNewRoute else { throw .system(operation: "netlink reply type \(type)", errno: EPROTO) }
        let length = min(Int(reply.readUInt32(at: 0)), reply.count)
        var offset = 16 + 12
        var route = Route(ifindex: 0, viaGateway: false)
        while offset + 4 <= length {
            let attributeLength = Int(reply.readUInt16(at: offset))
            let attributeType = reply.readUInt16(at: offset + 2)
            guard attributeLength >= 4, offset + attributeLength <= length else { break }
            if attributeType == rtaOif && attributeLength >= 8 { route.ifindex = reply.readUInt32(at: offset + 4) }
            if attributeType == rtaGateway { route.viaGateway = true }
            offset += (attributeLength + 3) & ~3
        }
        guard route.ifindex != 0 else { throw .noRoute(address) }
        return route
    }
}

extension [UInt8] {
    fileprivate mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate func readUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    fileprivate func readUInt32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[offset + $1]) << (8 * UInt32($1)) }
    }
}
