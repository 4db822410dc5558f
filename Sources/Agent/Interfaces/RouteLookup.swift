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

    private static let rtmGetRoute: UInt16 = 26
    private static let rtmNewRoute: UInt16 = 24
    private static let rtaDst: UInt16 = 1
    private static let rtaOif: UInt16 = 4
    private static let rtaGateway: UInt16 = 5
    private static let rtmsgSize = 12

    /// The route the kernel would use to reach `address`, or an errno-carrying error.
    static func route(to address: IPAddress) throws(InterfaceResolutionError) -> Route {
        let addressBytes = address.bytes
        var request = Netlink.header(type: rtmGetRoute, payloadSize: rtmsgSize + 4 + addressBytes.count)
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags(u32)
        request += [UInt8(address.isV4 ? AF_INET : AF_INET6), UInt8(address.bitWidth), 0, 0, 0, 0, 0, 0]
        request.append(littleEndian: UInt32(0))
        request.append(littleEndian: UInt16(4 + addressBytes.count))
        request.append(littleEndian: rtaDst)
        request += addressBytes

        let reply = try Netlink.roundTrip(request, operation: "route lookup for \(address)")
        if let code = Netlink.errorCode(of: reply) {
            throw code == 0 || code == ENETUNREACH
                ? .noRoute(address) : .system(operation: "route lookup for \(address)", errno: code)
        }
        let type = reply.readUInt16(at: 4)
        guard type == rtmNewRoute else { throw .system(operation: "netlink reply type \(type)", errno: EPROTO) }
        var route = Route(ifindex: 0, viaGateway: false)
        Netlink.forEachAttribute(in: reply, (Netlink.headerSize + rtmsgSize)..<reply.count) { attribute, value in
            if attribute == rtaOif && value.count >= 4 { route.ifindex = reply.readUInt32(at: value.lowerBound) }
            if attribute == rtaGateway { route.viaGateway = true }
        }
        guard route.ifindex != 0 else { throw .noRoute(address) }
        return route
    }

    private static let rtmGetLink: UInt16 = 18
    private static let rtmNewLink: UInt16 = 16
    private static let iflaLinkInfo: UInt16 = 18
    private static let iflaInfoKind: UInt16 = 1
    private static let ifinfomsgSize = 16

    /// The link kind of an interface (`ip -d link show`: "veth", "bridge", "vxlan", ...), nil for a device without
    /// one (a physical NIC, loopback).
    static func linkKind(ifindex: UInt32) throws(InterfaceResolutionError) -> String? {
        var request = Netlink.header(type: rtmGetLink, payloadSize: ifinfomsgSize)
        // struct ifinfomsg: family, pad, type(u16), index(s32), flags(u32), change(u32)
        request += [UInt8(AF_UNSPEC), 0, 0, 0]
        request.append(littleEndian: ifindex)
        request.append(littleEndian: UInt32(0))
        request.append(littleEndian: UInt32(0))

        let reply = try Netlink.roundTrip(request, operation: "link lookup for ifindex \(ifindex)")
        if let code = Netlink.errorCode(of: reply) {
            throw .system(operation: "link lookup for ifindex \(ifindex)", errno: code == 0 ? EPROTO : code)
        }
        let type = reply.readUInt16(at: 4)
        guard type == rtmNewLink else { throw .system(operation: "netlink reply type \(type)", errno: EPROTO) }
        var kind: String?
        Netlink.forEachAttribute(in: reply, (Netlink.headerSize + ifinfomsgSize)..<reply.count) { attribute, info in
            guard attribute == iflaLinkInfo else { return }
            Netlink.forEachAttribute(in: reply, info) { nested, value in
                guard nested == iflaInfoKind else { return }
                kind = String(decoding: reply[value].prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return kind
    }
}
