import DataplaneModel

/// Crafts Ethernet frames for `BPF_PROG_TEST_RUN`. Checksums are left zero: the TC programs never verify them.
enum PacketBuilder {
    static let ethernetIPv4: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]
    static let ethernetIPv6: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xDD]

    /// TCP flag bits.
    static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, ack: UInt8 = 0x10

    /// A transport header (with a few payload bytes where the protocol has them) for `proto`.
    static func transport(
        _ proto: L4Protocol, sport: UInt16, dport: UInt16, flags: UInt8 = syn, echoReply: Bool = false
    )
        -> [UInt8]
    {
        switch proto {
        case .tcp:
            return be16(sport) + be16(dport) + [0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0]
        case .udp:
            return be16(sport) + be16(dport) + be16(12) + [0, 0, 1, 2, 3, 4]
        case .sctp:
            return be16(sport) + be16(dport) + [0, 0, 0, 1, 0, 0, 0, 0] + [1, 0, 0, 4]
        case .icmp:
            return [echoReply ? 0 : 8, 0, 0, 0] + be16(sport) + be16(1)
        case .icmpv6:
            return [echoReply ? 129 : 128, 0, 0, 0] + be16(sport) + be16(1)
        }
    }

    /// An IPv4 frame. `fragment` sets the fragment offset (in 8-byte units), more-fragments flag and id.
    static func ipv4(
        _ source: String, _ destination: String, proto: UInt8, payload: [UInt8],
        fragment: (offset: UInt16, more: Bool, id: UInt16)? = nil, ihl: UInt8 = 5
    ) -> [UInt8] {
        let total = UInt16(20 + payload.count)
        let flags: UInt16 = (fragment?.offset ?? 0) | ((fragment?.more ?? false) ? 0x2000 : 0)
        var header: [UInt8] =
            [0x40 | ihl, 0] + be16(total) + be16(fragment?.id ?? 7) + be16(flags) + [64, proto, 0, 0]
        header += address(source) + address(destination)
        return ethernetIPv4 + header + payload
    }

    /// An IPv6 frame with optional extension headers `(type, body)`; bodies are padded to 8-byte multiples.
    static func ipv6(
        _ source: String, _ destination: String, proto: UInt8, payload: [UInt8],
        extensions: [(type: UInt8, body: [UInt8])] = []
    ) -> [UInt8] {
        var chain: [UInt8] = []
        let types = extensions.map(\.type) + [proto]
        for (index, ext) in extensions.enumerated() {
            if ext.type == 44 {  // fragment header: fixed 8 bytes, body = offset/flags (2) + id (4)
                chain += [types[index + 1], 0] + ext.body
            } else {
                var body = ext.body
                while (body.count + 2) % 8 != 0 { body.append(0) }
                chain += [types[index + 1], UInt8((body.count + 2) / 8 - 1)] + body
            }
        }
        let rest = chain + payload
        let header: [UInt8] = [0x60, 0, 0, 0] + be16(UInt16(rest.count)) + [types[0], 64]
        return ethernetIPv6 + header + address(source) + address(destination) + rest
    }

    /// A frame of `proto` from `source` to `destination` (family chosen by the address text).
    static func packet(
        _ proto: L4Protocol, from source: String, to destination: String, sport: UInt16 = 40000, dport: UInt16 = 80,
        flags: UInt8 = syn, echoReply: Bool = false
    ) -> [UInt8] {
        let payload = transport(proto, sport: sport, dport: dport, flags: flags, echoReply: echoReply)
        return source.contains(":")
            ? ipv6(source, destination, proto: proto.rawValue, payload: payload)
            : ipv4(source, destination, proto: proto.rawValue, payload: payload)
    }

    static let arp: [UInt8] =
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0, 2, 0x08, 0x06]
        + [0, 1, 8, 0, 6, 4, 0, 1] + [UInt8](repeating: 0, count: 20)

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    static func address(_ text: String) -> [UInt8] { IPAddress(text)!.bytes }
}
