internal import BPFShims
import DataplaneModel

/// Turns one endpoint direction's `PolicyEntry` list into policy LPM keys and folded values.
///
/// Why folding: an LPM trie returns only the longest matching prefix, but a packet must be judged by *every* entry
/// that matches it (deny beats allow). Prefixes of one identity are either nested or disjoint, so every entry that
/// matches a packet covers the packet's longest-matching key; giving each key the union of all entries covering it
/// makes the single longest match carry the whole answer. Port ranges become aligned power-of-two blocks
/// (at most 30 per range), never one key per port. Each identity's folded keys form a policy set; identical sets
/// are stored once (see `MapState.setIDs`), so the trie grows with distinct sets, not with endpoints times identities.
enum PolicyFolding {
    /// Protocols an entry with ports but no protocol applies to.
    static let portProtocols: [L4Protocol] = [.tcp, .udp, .sctp]

    /// One direction's entries folded into one policy set per remote identity. Independent of the endpoint, so
    /// endpoints with the same rules share the work and the sets.
    static func fold(_ policy: DirectionPolicy) -> [UInt32: PortSet] {
        // Keys are folded per remote identity: only keys of the same identity can cover each other.
        var groups: [UInt32: [PortKey: Fold]] = [:]
        for entry in policy.entries {
            for key in keys(of: entry) { groups[entry.peer.rawValue, default: [:]][key, default: Fold()].add(entry) }
        }
        var result: [UInt32: PortSet] = [:]
        result.reserveCapacity(groups.count)
        for (identity, group) in groups {
            var set = PortSet(minimumCapacity: group.count)
            if group.count <= 64 {
                // Small groups (the usual case): compare pairwise, no hashing.
                let members = Array(group)
                for (key, own) in members {
                    var fold = own
                    for (other, covering) in members where other.covers(key) { fold.merge(covering) }
                    set[key] = fold.value
                }
            } else {
                for (key, own) in group {
                    var fold = own
                    for ancestor in ancestors(of: key) {
                        if let covering = group[ancestor] { fold.merge(covering) }
                    }
                    set[key] = fold.value
                }
            }
            result[identity] = set
        }
        return result
    }

    /// The keys one entry covers: any protocol (/32), one protocol (/40), or protocol plus port blocks (/40+k).
    static func keys(of entry: PolicyEntry) -> [PortKey] {
        let protoLength = Int(BULWARK_POLICY_PREFIX_PROTO)
        switch (entry.proto, entry.ports) {
        case (nil, nil):
            return [PortKey(proto: 0, port: 0, prefixLength: Int(BULWARK_POLICY_PREFIX_SET))]
        case (let proto?, let ports?) where proto.hasPorts:
            return portBlocks(ports).map { PortKey(proto: proto.rawValue, port: $0.base, prefixLength: protoLength + $0.bits) }
        case (let proto?, _):
            return [PortKey(proto: proto.rawValue, port: 0, prefixLength: protoLength)]
        case (nil, let ports?):
            return portProtocols.flatMap { proto in
                portBlocks(ports).map { PortKey(proto: proto.rawValue, port: $0.base, prefixLength: protoLength + $0.bits) }
            }
        }
    }

    /// Shorter prefixes that contain `key`: the any-protocol key and the protocol keys with fewer port bits.
    static func ancestors(of key: PortKey) -> [PortKey] {
        let fixed = Int(BULWARK_POLICY_PREFIX_SET)
        let protoLength = Int(BULWARK_POLICY_PREFIX_PROTO)
        guard key.prefixLength > fixed else { return [] }
        var result = [PortKey(proto: 0, port: 0, prefixLength: fixed)]
        var length = protoLength
        while length < key.prefixLength {
            let bits = length - protoLength
            let mask: UInt16 = bits == 0 ? 0 : ~(UInt16.max >> UInt16(bits))
            result.append(PortKey(proto: key.proto, port: key.port & mask, prefixLength: length))
            length += 1
        }
        return result
    }

    /// Splits an inclusive port range into aligned blocks: `bits` leading port bits fixed, the rest free.
    static func portBlocks(_ range: PortRange) -> [(base: UInt16, bits: Int)] {
        var blocks: [(base: UInt16, bits: Int)] = []
        var start = UInt32(range.first)
        let end = UInt32(range.last)
        while start <= end {
            var size: UInt32 = start == 0 ? 1 << 16 : start & (~start &+ 1)
            while start + size - 1 > end { size >>= 1 }
            blocks.append((UInt16(start), 16 - size.trailingZeroBitCount))
            start += size
        }
        return blocks
    }

    /// What the entries covering one key say: lowest rule id per (mode, action), for deterministic rule reports.
    struct Fold {
        var enforceAllow: UInt32?
        var enforceDeny: UInt32?
        var anyAllow: UInt32?
        var anyDeny: UInt32?

        mutating func add(_ entry: PolicyEntry) {
            let rule = entry.rule.rawValue
            switch (entry.mode, entry.action) {
            case (.enforce, .allow):
                enforceAllow = lowest(enforceAllow, rule)
                anyAllow = lowest(anyAllow, rule)
            case (.enforce, .deny):
                enforceDeny = lowest(enforceDeny, rule)
                anyDeny = lowest(anyDeny, rule)
            case (.audit, .allow):
                anyAllow = lowest(anyAllow, rule)
            case (.audit, .deny):
                anyDeny = lowest(anyDeny, rule)
            }
        }

        mutating func merge(_ other: Fold) {
            enforceAllow = lowest(enforceAllow, other.enforceAllow)
            enforceDeny = lowest(enforceDeny, other.enforceDeny)
            anyAllow = lowest(anyAllow, other.anyAllow)
            anyDeny = lowest(anyDeny, other.anyDeny)
        }

        var value: PolicyValue {
            var flags: UInt32 = 0
            if enforceAllow != nil { flags |= UInt32(BULWARK_POLICY_ENFORCE_ALLOW) }
            if enforceDeny != nil { flags |= UInt32(BULWARK_POLICY_ENFORCE_DENY) }
            if anyAllow != nil { flags |= UInt32(BULWARK_POLICY_AUDIT_ALLOW) }
            if anyDeny != nil { flags |= UInt32(BULWARK_POLICY_AUDIT_DENY) }
            return PolicyValue(
                flags: flags, enforceRule: enforceDeny ?? enforceAllow ?? 0, auditRule: anyDeny ?? anyAllow ?? 0)
        }

        private func lowest(_ a: UInt32?, _ b: UInt32?) -> UInt32? {
            guard let a else { return b }
            guard let b else { return a }
            return min(a, b)
        }
    }
}

extension PortKey {
    /// True when this key is a strictly shorter prefix containing `other` (within one policy set).
    func covers(_ other: PortKey) -> Bool {
        guard prefixLength < other.prefixLength else { return false }
        let protoLength = Int(BULWARK_POLICY_PREFIX_PROTO)
        if prefixLength < protoLength { return true }
        guard proto == other.proto else { return false }
        let bits = prefixLength - protoLength
        let mask: UInt16 = bits == 0 ? 0 : ~(UInt16.max >> UInt16(bits))
        return other.port & mask == port
    }
}
