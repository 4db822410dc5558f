internal import BPFShims

/// Dense counter slots for the (rule, verdict) pairs that policy values count (see `BULWARK_RULE_SLOTS`).
///
/// Why: rule ids are 32-bit hashes; counting into a per-CPU array at a dense slot is an index the verifier inlines,
/// where a hash keyed by rule costs a lookup on every packet. Slots are written to `bulwark_rule_slots` before any
/// policy value carrying them, survive restarts with the pinned map, and are never reused: a conntrack entry keeps
/// counting into its slot after its rule is gone. Pairs past the capacity get no slot and are counted in the
/// `bulwark_counters` hash instead, as every pair was before slots.
struct RuleSlots {
    struct Pair: Hashable {
        var rule: UInt32
        var verdict: DatapathVerdict
    }

    private(set) var slots: [Pair: UInt16]
    private var next: Int
    private let capacity: Int

    /// The table a `bulwark_rule_slots` map holds (unused slots are skipped), plus rule 0's reserved slots.
    init(entries: [(UInt32, bulwark_rule_slot)], capacity: Int) {
        self.capacity = capacity
        slots = [
            Pair(rule: 0, verdict: .allow): UInt16(BULWARK_SLOT_DEFAULT_ALLOW),
            Pair(rule: 0, verdict: .deny): UInt16(BULWARK_SLOT_DEFAULT_DENY),
            Pair(rule: 0, verdict: .audit): UInt16(BULWARK_SLOT_DEFAULT_AUDIT),
        ]
        next = Int(BULWARK_SLOTS_RESERVED)
        let assignable = Int(BULWARK_SLOTS_RESERVED)..<capacity
        for (slot, value) in entries where value.used != 0 && assignable.contains(Int(slot)) {
            guard let verdict = DatapathVerdict(rawValue: value.verdict) else { continue }
            slots[Pair(rule: value.rule, verdict: verdict)] = UInt16(slot)
            next = max(next, Int(slot) + 1)
        }
    }

    /// The table a pinned `bulwark_rule_slots` map holds.
    init(reading map: BPFMap) throws {
        self.init(entries: try map.entries(as: (UInt32.self, bulwark_rule_slot.self)), capacity: map.capacity)
    }

    /// Gives each pair without a slot the next free one while they last; returns the map entries to write.
    mutating func assign<Pairs: Sequence<Pair>>(_ pairs: Pairs) -> [(UInt32, bulwark_rule_slot)] {
        var writes: [(UInt32, bulwark_rule_slot)] = []
        for pair in pairs where slots[pair] == nil && next < capacity {
            slots[pair] = UInt16(next)
            let entry = bulwark_rule_slot(rule: pair.rule, verdict: pair.verdict.rawValue, used: 1, pad: 0)
            writes.append((UInt32(next), entry))
            next += 1
        }
        return writes
    }

    /// The slot a value carries for `pair`: `BULWARK_SLOT_NONE` for no pair or one without a slot.
    func slot(_ pair: Pair?) -> UInt16 {
        pair.flatMap { slots[$0] } ?? UInt16(BULWARK_SLOT_NONE)
    }
}

extension PolicyValue {
    /// What this value counts: its enforced answer's rule and verdict, and its audited denial's rule.
    var countedPairs: (enforce: RuleSlots.Pair?, audit: RuleSlots.Pair?) {
        let enforce: RuleSlots.Pair? =
            flags & UInt32(BULWARK_POLICY_ENFORCE_DENY) != 0
            ? RuleSlots.Pair(rule: enforceRule, verdict: .deny)
            : flags & UInt32(BULWARK_POLICY_ENFORCE_ALLOW) != 0
                ? RuleSlots.Pair(rule: enforceRule, verdict: .allow) : nil
        let audit: RuleSlots.Pair? =
            flags & UInt32(BULWARK_POLICY_AUDIT_DENY) != 0 ? RuleSlots.Pair(rule: auditRule, verdict: .audit) : nil
        return (enforce, audit)
    }

    func raw(slots: RuleSlots) -> bulwark_policy_value {
        let pairs = countedPairs
        return bulwark_policy_value(
            flags: flags, enforce_rule: enforceRule, audit_rule: auditRule, enforce_slot: slots.slot(pairs.enforce),
            audit_slot: slots.slot(pairs.audit))
    }
}
