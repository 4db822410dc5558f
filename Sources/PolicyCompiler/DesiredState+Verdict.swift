import DataplaneModel

/// What the dataplane does with one packet in one direction of one endpoint.
public enum Verdict: String, Hashable, Sendable, CustomStringConvertible {
    case allowed
    case denied
    /// An Audit-mode policy would deny it; it passes and is reported.
    case audited

    /// True when the packet gets through (allowed or only audited).
    public var passes: Bool { self != .denied }
    public var description: String { rawValue }
}

/// A verdict and why.
public struct Decision: Hashable, Sendable {
    public var verdict: Verdict
    /// The rule that decided: a policy rule, `RuleID.defaultDeny` (isolated, nothing matched), or nil when the
    /// endpoint is not isolated in that direction.
    public var rule: RuleID?
    /// The remote address's identity, from the ipcache.
    public var remoteIdentity: Identity

    public init(verdict: Verdict, rule: RuleID?, remoteIdentity: Identity) {
        self.verdict = verdict
        self.rule = rule
        self.remoteIdentity = remoteIdentity
    }
}

extension DesiredState {
    /// The identity of `address`: the longest ipcache prefix containing it, `world` when none does.
    ///
    /// A linear scan: meant for `bulwark explain` and tests, not for the packet path.
    public func identity(of address: IPAddress) -> Identity {
        var best: IPCacheEntry?
        for entry in ipcache where entry.prefix.contains(address) && entry.prefix.length >= (best?.prefix.length ?? -1) {
            best = entry
        }
        return best?.identity ?? .world
    }

    /// Decides a packet exactly as `PolicyEntry` documents: in an isolated direction, an enforced deny beats an
    /// enforced allow, which beats the default; the audit answer asks the same over all entries, and when it says
    /// deny while the enforced answer says pass, the packet passes as `audited`.
    public func decide(
        _ endpoint: Endpoint, _ direction: Direction, remote: IPAddress, proto: L4Protocol, port: UInt16?
    ) -> Decision {
        let identity = identity(of: remote)
        let policy = endpoint.policy(direction)
        guard policy.isolation != .none else { return Decision(verdict: .allowed, rule: nil, remoteIdentity: identity) }
        let matching = policy.entries.filter { entry in
            (entry.peer == .any || entry.peer == identity) && (entry.proto == nil || entry.proto == proto)
                && (entry.ports == nil || !proto.hasPorts || port.map { entry.ports!.contains($0) } == true)
        }
        func answer(_ entries: [PolicyEntry], isolated: Bool) -> (passes: Bool, rule: RuleID?) {
            if let deny = entries.first(where: { $0.action == .deny }) { return (false, deny.rule) }
            if let allow = entries.first(where: { $0.action == .allow }) { return (true, allow.rule) }
            return isolated ? (false, .defaultDeny) : (true, nil)
        }
        let enforced = answer(matching.filter { $0.mode == .enforce }, isolated: policy.isolation == .enforce)
        guard enforced.passes else { return Decision(verdict: .denied, rule: enforced.rule, remoteIdentity: identity) }
        let audited = answer(matching, isolated: true)
        if !audited.passes { return Decision(verdict: .audited, rule: audited.rule, remoteIdentity: identity) }
        return Decision(verdict: .allowed, rule: enforced.rule ?? audited.rule, remoteIdentity: identity)
    }
}
