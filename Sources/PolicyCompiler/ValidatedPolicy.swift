import DataplaneModel
import KubeModel

/// A policy that passed validation, normalised so both kinds compile the same way.
struct ValidatedPolicy: Hashable, Sendable {
    var reference: PolicyReference
    var podSelector: LabelSelector
    var mode: PolicyMode
    /// Rules per direction; nil when the policy does not apply to that direction (per `policyTypes`).
    var ingress: [ValidatedRule]?
    var egress: [ValidatedRule]?

    func rules(_ direction: Direction) -> [ValidatedRule]? { direction == .ingress ? ingress : egress }

    /// Every distinct pod peer the rules name, for the selector cache. An egress rule to everyone on a named port
    /// names every pod: the port resolves on each destination pod.
    var podPeers: Set<PodPeer> {
        var result = Set<PodPeer>()
        for rule in (ingress ?? []) + (egress ?? []) {
            for peer in rule.peers ?? [] { if case .pods(let pods) = peer { result.insert(pods) } }
        }
        for rule in egress ?? [] where rule.peers == nil {
            if rule.ports?.contains(where: { if case .named = $0.ports { true } else { false } }) == true {
                result.insert(.allPods)
            }
        }
        return result
    }

    var cidrSelectors: Set<CIDRSelector> {
        var result = Set<CIDRSelector>()
        for rule in (ingress ?? []) + (egress ?? []) {
            for peer in rule.peers ?? [] { if case .cidr(let selector) = peer { result.insert(selector) } }
        }
        return result
    }
}

/// One rule: who (nil = anyone), which ports (nil = all), and what to do.
struct ValidatedRule: Hashable, Sendable {
    var index: Int
    var action: RuleAction
    var peers: [Peer]?
    var ports: [PortMatch]?
}

enum Peer: Hashable, Sendable {
    case pods(PodPeer)
    case cidr(CIDRSelector)
}

/// Pods selected by label: in one namespace (`namespace`) or in the namespaces `namespaceSelector` selects.
struct PodPeer: Hashable, Sendable {
    enum Namespaces: Hashable, Sendable {
        case named(String)
        case selected(LabelSelector)
    }

    var namespaces: Namespaces
    var podSelector: LabelSelector

    /// Every pod in every namespace: what a named port with no peer can resolve against.
    static let allPods = PodPeer(namespaces: .selected(.everything), podSelector: .everything)

    func matches(_ labels: LabelSet) -> Bool {
        switch namespaces {
        case .named(let name): guard labels.namespace == name else { return false }
        case .selected(let selector): guard selector.matches(labels.namespaceLabels) else { return false }
        }
        return podSelector.matches(labels.podLabels)
    }
}

/// An `ipBlock`: addresses in `cidr` and in none of `except`.
struct CIDRSelector: Hashable, Comparable, Sendable, CustomStringConvertible {
    let cidr: IPPrefix
    let except: [IPPrefix]
    /// Formatted once: identity keys print their selectors into the canonical text their numbers are hashed from,
    /// and the key of a wide prefix lists every selector containing it.
    let description: String

    init(cidr: IPPrefix, except: [IPPrefix]) {
        self.cidr = cidr
        self.except = except
        description = except.isEmpty ? cidr.description : "\(cidr) except \(except.map(\.description).joined(separator: ","))"
    }

    func contains(_ prefix: IPPrefix) -> Bool {
        cidr.contains(prefix) && !except.contains { $0.contains(prefix) }
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.cidr == rhs.cidr && lhs.except == rhs.except }

    func hash(into hasher: inout Hasher) {
        hasher.combine(cidr)
        hasher.combine(except)
    }

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.cidr, lhs.except.count) < (rhs.cidr, rhs.except.count)
        || (lhs.cidr == rhs.cidr && lhs.except.count == rhs.except.count && lhs.except.lexicographicallyPrecedes(rhs.except))
    }
}

/// A port clause: a protocol, and a port range, a container port name, or every port.
struct PortMatch: Hashable, Sendable {
    enum Ports: Hashable, Sendable {
        case all
        case range(PortRange)
        case named(String)
    }

    var proto: L4Protocol
    var ports: Ports
}
