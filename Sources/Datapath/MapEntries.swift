internal import BPFShims
import DataplaneModel

// Hashable Swift views of the ABI header's keys and values, for diffing. The C structs stay the one layout
// definition: these types only convert to and from them.

/// Key of the selector hash: which policy set an endpoint applies to one remote identity in one direction.
struct SelectorKey: Hashable, CustomStringConvertible {
    var endpoint: UInt32
    var identity: UInt32
    var direction: Direction
    var epoch: UInt8

    init(endpoint: UInt32, identity: UInt32, direction: Direction, epoch: UInt8) {
        self.endpoint = endpoint
        self.identity = identity
        self.direction = direction
        self.epoch = epoch
    }

    init(_ raw: bulwark_selector_key) {
        self.init(
            endpoint: raw.endpoint, identity: raw.identity,
            direction: Direction(rawValue: raw.dir_epoch & 1) ?? .ingress, epoch: raw.dir_epoch >> 1)
    }

    var raw: bulwark_selector_key {
        var key = zeroed(bulwark_selector_key.self)
        key.endpoint = endpoint
        key.identity = identity
        key.dir_epoch = direction.rawValue | epoch << 1
        return key
    }

    var description: String { "endpoint \(endpoint) \(direction) epoch \(epoch) identity \(identity)" }
}

/// A port prefix inside a policy set.
struct PortKey: Hashable, CustomStringConvertible {
    var proto: UInt8
    var port: UInt16
    var prefixLength: Int

    func raw(set: UInt32) -> bulwark_policy_key {
        var key = zeroed(bulwark_policy_key.self)
        key.prefixlen = UInt32(prefixLength)
        key.set_id = set
        key.proto = proto
        key.dport = (UInt8(port >> 8), UInt8(port & 0xFF))
        return key
    }

    /// The set id and port prefix of an LPM key.
    static func from(_ raw: bulwark_policy_key) -> (set: UInt32, key: PortKey) {
        let port = UInt16(raw.dport.0) << 8 | UInt16(raw.dport.1)
        return (raw.set_id, PortKey(proto: raw.proto, port: port, prefixLength: Int(raw.prefixlen)))
    }

    /// The hash key of a set without port ranges (only lengths 32, 40 and 56 occur there).
    func exactRaw(set: UInt32) -> bulwark_policy_exact_key {
        bulwark_policy_exact_key(
            set_id: set, proto: proto, prefixlen: UInt8(prefixLength), dport: (UInt8(port >> 8), UInt8(port & 0xFF)))
    }

    /// The set id and port prefix of a hash key.
    static func from(_ raw: bulwark_policy_exact_key) -> (set: UInt32, key: PortKey) {
        let port = UInt16(raw.dport.0) << 8 | UInt16(raw.dport.1)
        return (raw.set_id, PortKey(proto: raw.proto, port: port, prefixLength: Int(raw.prefixlen)))
    }

    /// The `BULWARK_SET_*` bit this key's length contributes to its set's shape.
    var shape: UInt32 {
        switch prefixLength {
        case ...Int(BULWARK_POLICY_PREFIX_SET): UInt32(BULWARK_SET_ANY)
        case Int(BULWARK_POLICY_PREFIX_PROTO): UInt32(BULWARK_SET_PROTO)
        case Int(BULWARK_POLICY_PREFIX_FULL): UInt32(BULWARK_SET_PORTS)
        default: UInt32(BULWARK_SET_RANGES)
        }
    }

    var description: String {
        prefixLength <= Int(BULWARK_POLICY_PREFIX_SET)
            ? "any"
            : prefixLength == Int(BULWARK_POLICY_PREFIX_PROTO)
                ? "proto \(proto)" : "proto \(proto) port \(port)/\(prefixLength - Int(BULWARK_POLICY_PREFIX_PROTO))"
    }
}

/// One folded policy set: the port rules of one identity, shared by every selector with the same content.
typealias PortSet = [PortKey: PolicyValue]

/// Set ids carry their set's shape in the low bits (`BULWARK_SET_*`), which tells the program where the keys live
/// and which lengths to look up (see the ABI header).
enum SetShape {
    static let bits = UInt32(BULWARK_SET_SHAPE_BITS)
    static let mask: UInt32 = (1 << bits) - 1
    /// Sets without ranges of at most this many keys are copied into their selectors' values.
    static let inlineLimit = Int(BULWARK_SELECTOR_INLINE)

    static func of(_ content: PortSet) -> UInt32 { content.keys.reduce(0) { $0 | $1.shape } }

    /// True when the set's keys live in the LPM trie rather than the hash.
    static func isRanged(_ set: UInt32) -> Bool { set & UInt32(BULWARK_SET_RANGES) != 0 }
}

extension bulwark_selector_value {
    /// The value of a selector choosing `set`: the set's keys are copied in when it has no ranges and at most
    /// `SetShape.inlineLimit` keys, so the program decides without looking the set up.
    init(set: UInt32, content: PortSet?, slots: RuleSlots) {
        self = zeroed(bulwark_selector_value.self)
        set_id = set
        guard let content, content.count <= SetShape.inlineLimit, !SetShape.isRanged(set) else { return }
        var inlineKeys = keys
        var inlineValues = values
        let ordered = content.sorted {
            ($0.key.prefixLength, $0.key.proto, $0.key.port) < ($1.key.prefixLength, $1.key.proto, $1.key.port)
        }
        withUnsafeMutableBytes(of: &inlineKeys) { raw in
            for (index, key) in ordered.map(\.key).enumerated() {
                raw.storeBytes(
                    of: bulwark_inline_key(
                        proto: key.proto, prefixlen: UInt8(key.prefixLength),
                        dport: (UInt8(key.port >> 8), UInt8(key.port & 0xFF))),
                    toByteOffset: index * MemoryLayout<bulwark_inline_key>.stride, as: bulwark_inline_key.self)
            }
        }
        withUnsafeMutableBytes(of: &inlineValues) { raw in
            for (index, value) in ordered.map(\.value).enumerated() {
                raw.storeBytes(
                    of: value.raw(slots: slots), toByteOffset: index * MemoryLayout<bulwark_policy_value>.stride,
                    as: bulwark_policy_value.self)
            }
        }
        inline_count = UInt8(content.count)
        keys = inlineKeys
        values = inlineValues
    }
}

/// Folded flags and deciding rules of one policy key (see `BULWARK_POLICY_*` in the ABI header).
struct PolicyValue: Hashable {
    var flags: UInt32
    var enforceRule: UInt32
    var auditRule: UInt32

    init(flags: UInt32, enforceRule: UInt32, auditRule: UInt32) {
        self.flags = flags
        self.enforceRule = enforceRule
        self.auditRule = auditRule
    }

    init(_ raw: bulwark_policy_value) {
        self.init(flags: raw.flags, enforceRule: raw.enforce_rule, auditRule: raw.audit_rule)
    }
}

/// Endpoint configuration keyed by host-veth ifindex.
struct EndpointConfig: Hashable {
    var identity: UInt32
    var ingress: Isolation
    var egress: Isolation
    var epoch: UInt8
    /// `BULWARK_ENDPOINT_WILDCARD_*`: which directions have any-identity keys (else that lookup is skipped).
    var flags: UInt8

    init(identity: UInt32, ingress: Isolation, egress: Isolation, epoch: UInt8, flags: UInt8 = 0) {
        self.identity = identity
        self.ingress = ingress
        self.egress = egress
        self.epoch = epoch
        self.flags = flags
    }

    init(_ raw: bulwark_endpoint) {
        self.init(
            identity: raw.identity, ingress: Isolation(rawValue: raw.ingress_isolation) ?? .enforce,
            egress: Isolation(rawValue: raw.egress_isolation) ?? .enforce, epoch: raw.policy_epoch, flags: raw.flags)
    }

    /// The wildcard flags matching a generation: which directions have an any-identity selector.
    static func wildcardFlags(of generation: Generation) -> UInt8 {
        var flags: UInt8 = 0
        if generation.ingress.first?.identity == Identity.any.rawValue {
            flags |= UInt8(BULWARK_ENDPOINT_WILDCARD_INGRESS)
        }
        if generation.egress.first?.identity == Identity.any.rawValue {
            flags |= UInt8(BULWARK_ENDPOINT_WILDCARD_EGRESS)
        }
        return flags
    }

    /// True when the two differ at most in which generation they select.
    func sameApartFromEpoch(_ other: EndpointConfig) -> Bool {
        var copy = other
        copy.epoch = epoch
        return copy == self
    }

    func raw(ifindex: UInt32) -> bulwark_endpoint {
        bulwark_endpoint(
            endpoint_id: ifindex, identity: identity, ingress_isolation: ingress.rawValue,
            egress_isolation: egress.rawValue, policy_epoch: epoch, flags: flags)
    }
}

extension IPPrefix {
    /// A single address (/32 or /128): the ipcache entries the address copies hold.
    var isHost: Bool { length == address.bitWidth }

    /// The ipcache LPM key for this prefix.
    var ipcacheKey: bulwark_ipcache_key {
        var key = zeroed(bulwark_ipcache_key.self)
        key.prefixlen = UInt32(BULWARK_IPCACHE_PREFIX_BASE) + UInt32(length)
        key.family = address.isV4 ? 4 : 6
        withUnsafeMutableBytes(of: &key.addr) { raw in
            for (index, byte) in address.bytes.enumerated() { raw[index] = byte }
        }
        return key
    }

    init?(ipcacheKey key: bulwark_ipcache_key) {
        let bytes = withUnsafeBytes(of: key.addr) { Array($0) }
        guard let address = IPAddress(family: key.family, bytes: bytes) else { return nil }
        self.init(address: address, length: Int(key.prefixlen) - Int(BULWARK_IPCACHE_PREFIX_BASE))
    }
}

extension IPAddress {
    /// Reads an address from the 16-byte ABI field (IPv4 uses the first 4 bytes).
    init?(family: UInt8, bytes: [UInt8]) {
        switch family {
        case 4:
            self = .v4(bytes[0..<4].reduce(0) { $0 << 8 | UInt32($1) })
        case 6:
            let hi = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let lo = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(hi, lo)
        default:
            return nil
        }
    }
}
