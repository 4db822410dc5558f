internal import BPFShims

/// Where policy sets live: a set with port ranges in the `bulwark_policy` LPM trie, every other set in the
/// `bulwark_policy_exact` hash (its id's shape bits say which, see `SetShape`). Each key is in exactly one map.
extension Datapath {
    /// Every set in both maps, by id.
    func readSets() throws -> [UInt32: PortSet] {
        var sets: [UInt32: PortSet] = [:]
        for (raw, value) in try policy.entries(as: (bulwark_policy_key.self, bulwark_policy_value.self)) {
            let (set, key) = PortKey.from(raw)
            sets[set, default: [:]][key] = PolicyValue(value)
        }
        for (raw, value) in try policyExact.entries(as: (bulwark_policy_exact_key.self, bulwark_policy_value.self)) {
            let (set, key) = PortKey.from(raw)
            sets[set, default: [:]][key] = PolicyValue(value)
        }
        return sets
    }

    /// Writes new sets into the map their shape names, after giving their rules counter slots; returns the number
    /// of keys written.
    func writeSets(_ sets: [UInt32: PortSet]) throws -> Int {
        var slots = ruleSlots
        let pairs = Set(
            sets.values.lazy.flatMap(\.values).flatMap { [$0.countedPairs.enforce, $0.countedPairs.audit] }
                .compactMap { $0 })
        // In rule order, so which pairs get the last free slots does not depend on hash order.
        try ruleSlotMap.update(
            slots.assign(pairs.sorted { ($0.rule, $0.verdict.rawValue) < ($1.rule, $1.verdict.rawValue) }))
        ruleSlots = slots
        var ranged: [(bulwark_policy_key, bulwark_policy_value)] = []
        var exact: [(bulwark_policy_exact_key, bulwark_policy_value)] = []
        for (set, content) in sets {
            if SetShape.isRanged(set) {
                ranged += content.map { ($0.key.raw(set: set), $0.value.raw(slots: slots)) }
            } else {
                exact += content.map { ($0.key.exactRaw(set: set), $0.value.raw(slots: slots)) }
            }
        }
        try policy.update(ranged)
        try policyExact.update(exact)
        return ranged.count + exact.count
    }

    /// Deletes set keys from the map each set lives in.
    func deleteSetKeys(_ keys: [(set: UInt32, key: PortKey)]) throws {
        try policy.delete(keys.filter { SetShape.isRanged($0.set) }.map { $0.key.raw(set: $0.set) })
        try policyExact.delete(keys.filter { !SetShape.isRanged($0.set) }.map { $0.key.exactRaw(set: $0.set) })
    }
}
