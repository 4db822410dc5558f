/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` compression and an embedded IPv4 tail).
    public init?(_ text: Substring) {
        if text.utf8.contains(UInt8(ascii: ":")) {
            guard let value = Self.parseV6(text) else { return nil }
            self = value
        } else {
            guard let value = Self.parseV4(text) else { return nil }
            self = .v4(value)
        }
    }

    public init?(_ text: String) { self.init(Substring(text)) }

    public var isV4: Bool { if case .v4 = self { true } else { false } }

    /// Address width in bits (32 or 128).
    public var bitWidth: Int { isV4 ? 32 : 128 }

    /// Network byte order bytes, 4 or 16 of them.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): return (0..<4).map { UInt8(truncatingIfNeeded: a >> (24 - 8 * $0)) }
        case .v6(let hi, let lo):
            return (0..<8).map { UInt8(truncatingIfNeeded: hi >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: lo >> (56 - 8 * $0)) }
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): return "\((a >> 24) & 0xFF).\((a >> 16) & 0xFF).\((a >> 8) & 0xFF).\(a & 0xFF)"
        case .v6(let hi, let lo):
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: hi >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: lo >> (48 - 16 * $0)) }
            return Self.formatV6(groups)
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        case (.v6(let a1, let a2), .v6(let b1, let b2)): (a1, a2) < (b1, b2)
        }
    }

    /// Four decimal octets without leading zeros. Reads the UTF-8 bytes directly: pod addresses are parsed for
    /// every pod of the cluster on every full compile.
    private static func parseV4(_ text: Substring) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                (octet, digits, dots) = (0, 0, dots + 1)
                continue
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), !(digits == 1 && octet == 0) else { return nil }
            octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
            digits += 1
            guard octet <= 255 else { return nil }
        }
        guard digits > 0, dots == 3 else { return nil }
        return value << 8 | octet
    }

    private static func parseV6(_ text: Substring) -> IPAddress? {
        var groups: [UInt16] = []
        let halves = splitAtDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ part: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, item) in items.enumerated() {
                if allowV4Tail && index == items.count - 1 && item.contains(".") {
                    guard let v4 = parseV4(item) else { return nil }
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard (1...4).contains(item.count), let group = UInt16(item, radix: 16) else { return nil }
                result.append(group)
            }
            return result
        }
        guard let head = parseGroups(halves[0], allowV4Tail: halves.count == 1) else { return nil }
        if halves.count == 2 {
            guard let tail = parseGroups(halves[1], allowV4Tail: true), head.count + tail.count <= 7 else { return nil }
            groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            groups = head
        }
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for group in groups[0..<4] { hi = hi << 16 | UInt64(group) }
        for group in groups[4..<8] { lo = lo << 16 | UInt64(group) }
        return .v6(hi, lo)
    }

    /// Splits at every `::`; more than two parts means the text compresses twice, which RFC 4291 forbids.
    private static func splitAtDoubleColon(_ text: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == ":" && next < text.endIndex && text[next] == ":" {
                parts.append(text[start..<index])
                start = text.index(after: next)
                index = start
            } else {
                index = next
            }
        }
        parts.append(text[start...])
        return parts
    }

    /// RFC 5952 text: lower-case hex, the longest run (>= 2) of zero groups compressed to `::`.
    private static func formatV6(_ groups: [UInt16]) -> String {
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < 8 && groups[index] == 0 { index += 1 }
            if index - start > bestLength {
                bestStart = start
                bestLength = index - start
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}

/// An address prefix (CIDR), always stored in canonical form (host bits zero).
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    /// A prefix from an address and a length; host bits are cleared. Returns nil when the length is out of range.
    public init?(address: IPAddress, length: Int) {
        guard (0...address.bitWidth).contains(length) else { return nil }
        self.address = Self.mask(address, length)
        self.length = length
    }

    /// The host prefix (/32 or /128) of one address.
    public init(host: IPAddress) {
        self.address = host
        self.length = host.bitWidth
    }

    /// Parses `ADDRESS/LENGTH`. Returns nil for malformed text or host bits set (Kubernetes accepts those in
    /// `ipBlock.cidr`, so callers wanting that leniency parse the parts themselves).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(parts[0]), parts[1].allSatisfy(\.isASCII),
            let length = Int(parts[1]), !parts[1].hasPrefix("+"), let prefix = IPPrefix(address: address, length: length),
            prefix.address == address
        else { return nil }
        self = prefix
    }

    public var description: String { "\(address)/\(length)" }

    /// True when every address of `other` is inside this prefix.
    public func contains(_ other: IPPrefix) -> Bool {
        other.address.isV4 == address.isV4 && other.length >= length && Self.mask(other.address, length) == address
    }

    public func contains(_ host: IPAddress) -> Bool { contains(IPPrefix(host: host)) }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool { (lhs.address, lhs.length) < (rhs.address, rhs.length) }

    private static func mask(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let a): return .v4(length == 0 ? 0 : a & ~(UInt32.max >> UInt32(length)))
        case .v6(let hi, let lo):
            let hiMask: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : ~(UInt64.max >> UInt64(length)))
            let loMask: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : ~(UInt64.max >> UInt64(length - 64)))
            return .v6(hi & hiMask, lo & loMask)
        }
    }
}
