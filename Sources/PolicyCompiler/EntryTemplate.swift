import DataplaneModel

/// A policy entry before the target pod is known: ingress named ports resolve on the target, so they stay names.
struct EntryTemplate: Hashable, Sendable {
    enum Ports: Hashable, Sendable {
        case all
        case range(PortRange)
        case named(String)
    }

    var peer: Identity
    var proto: L4Protocol?
    var ports: Ports
    var action: RuleAction
    var mode: PolicyMode
    var rule: RuleID
}

/// A policy's templates per direction (nil: the policy does not apply to that direction) and its rule ids.
struct PolicyTemplates: Sendable {
    var ingress: [EntryTemplate]?
    var egress: [EntryTemplate]?

    func entries(_ direction: Direction) -> [EntryTemplate]? { direction == .ingress ? ingress : egress }
}

extension PolicyEntry {
    /// Total order for deterministic output: peer, protocol, ports, action, mode, rule.
    static func precedes(_ lhs: PolicyEntry, _ rhs: PolicyEntry) -> Bool {
        let left = (lhs.peer.rawValue, lhs.proto?.rawValue ?? 0, lhs.ports?.first ?? 0, lhs.ports?.last ?? 0)
        let right = (rhs.peer.rawValue, rhs.proto?.rawValue ?? 0, rhs.ports?.first ?? 0, rhs.ports?.last ?? 0)
        if left != right { return left < right }
        if (lhs.proto == nil) != (rhs.proto == nil) { return lhs.proto == nil }
        if (lhs.ports == nil) != (rhs.ports == nil) { return lhs.ports == nil }
        return (lhs.action.rawValue, lhs.mode.rawValue, lhs.rule.rawValue)
            < (rhs.action.rawValue, rhs.mode.rawValue, rhs.rule.rawValue)
    }
}
