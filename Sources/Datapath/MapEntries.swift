internal import BPFShims
import DataplaneModel

// Hashable Swift views of the ABI header's keys and values, for diffing. The C structs stay the one layout
// definition: these types only convert to and from them.

/// One key of the policy LPM trie: `prefixLength` 72 = any protocol, 80 = any port, 80 + k = a port block.
struct PolicyKey: Hashable, CustomStringConvertible {
    var endpoint: UInt32
    var identity: UInt32
    var direction: Direction
    var epoch: UInt8
    var proto: UInt8
    var port: UInt16
    var prefixLength: Int

    init(endpoint: UInt32, identity: UInt32, direction: Direction, epoch: UInt8, proto: UInt8, port: UInt16,
         prefixLength: Int) {
        self.endpoint = endpoint
        self.identity = identity
        self.direction = direction
        self.epoch = epoch
        self.proto = proto
        self.port = port
        self.prefixLength = prefixLength
    }

    init(_ raw: bulwark_policy_key) {
        self.init(
            endpoint: raw.endpoint, identity: raw.identity,
            direction: Direction(rawValue: raw.dir_epoch & 1) ?? .ingress, epoch: raw.dir_epoch >> 1,
            proto: raw.proto, port: UInt16(bigEndian: raw.dport), prefixLength: Int(raw.prefixlen))
    }

    var raw: bulwark_policy_key {
        bulwark_policy_key(
            prefixlen: UInt32(prefixLength), endpoint: endpoint, identity: identity,
            dir_epoch: direction.rawValue | epoch << 1, proto: proto, dport: port.bigEndian)
    }

    func withEpoch(_ epoch: UInt8) -> PolicyKey {
        var copy = self
        copy.epoch = epoch
        return copy
    }

    var description: String {
        let scope = prefixLength <= 72 ? "any" : prefixLength == 80 ? "\(proto)/any" : "\(proto)/\(port)/\(prefixLength - 80)"
        return "endpoint \(endpoint) \(direction) epoch \(epoch) identity \(identity) \(scope)"
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

    var raw: bulwark_policy_value {
        bulwark_policy_value(flags: flags, enforce_rule: enforceRule, audit_rule: auditRule)
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

    /// The wildcard flags matching a generation's keys.
    static func wildcardFlags<Keys: Sequence>(of keys: Keys) -> UInt8 where Keys.Element == PolicyKey {
        var flags: UInt8 = 0
        for key in keys where key.identity == Identity.any.rawValue {
            flags |= UInt8(key.direction == .ingress ? BULWARK_ENDPOINT_WILDCARD_INGRESS : BULWARK_ENDPOINT_WILDCARD_EGRESS)
        }
        return flags
    }

    func raw(ifindex: UInt32) -> bulwark_endpoint {
        bulwark_endpoint(
            endpoint_id: ifindex, identity: identity, ingress_isolation: ingress.rawValue,
            egress_isolation: egress.rawValue, policy_epoch: epoch, flags: flags)
    }
}

extension IPPrefix {
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
