/// The desired dataplane state of one node: what the policy compiler produces and the datapath programs.
///
/// Why a shared vocabulary module: the compiler is pure and must not link libbpf, and the datapath must not know
/// Kubernetes; both speak these value types, so the agent passes one to the other without translation.
public struct DesiredState: Hashable, Sendable {
    /// Local pods to enforce, one per pod interface.
    public var endpoints: [Endpoint]
    /// Remote address -> identity for every pod in the cluster, every CIDR selector prefix, and the host.
    public var ipcache: [IPCacheEntry]
    /// What each rule id means, for counters, events and `bulwark inspect`.
    public var rules: [RuleID: RuleInfo]

    public init(endpoints: [Endpoint] = [], ipcache: [IPCacheEntry] = [], rules: [RuleID: RuleInfo] = [:]) {
        self.endpoints = endpoints
        self.ipcache = ipcache
        self.rules = rules
    }
}

/// A local pod as the datapath sees it.
public struct Endpoint: Hashable, Sendable {
    /// `namespace/name` of the pod, for logs and events.
    public var pod: String
    /// The pod's own addresses.
    public var addresses: [IPAddress]
    /// The pod's identity (also present in the ipcache for its addresses).
    public var identity: Identity
    /// Host-side interface index; 0 until the agent has found the pod's veth. The datapath skips unresolved ones.
    public var ifindex: UInt32
    /// Policy for traffic entering the pod.
    public var ingress: DirectionPolicy
    /// Policy for traffic leaving the pod.
    public var egress: DirectionPolicy

    public init(
        pod: String, addresses: [IPAddress], identity: Identity, ifindex: UInt32 = 0,
        ingress: DirectionPolicy = DirectionPolicy(), egress: DirectionPolicy = DirectionPolicy()
    ) {
        self.pod = pod
        self.addresses = addresses
        self.identity = identity
        self.ifindex = ifindex
        self.ingress = ingress
        self.egress = egress
    }

    public func policy(_ direction: Direction) -> DirectionPolicy { direction == .ingress ? ingress : egress }
}

/// Direction from the pod's point of view.
public enum Direction: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case ingress = 0
    case egress = 1

    public var description: String { self == .ingress ? "ingress" : "egress" }
}

/// Whether traffic in one direction is restricted to what policy allows.
///
/// Kubernetes rule: a pod is isolated for a direction only when some policy selects it for that direction.
/// `audit` means only Audit-mode policies select it: everything passes, and what they would deny is reported.
public enum Isolation: UInt8, Hashable, Sendable, Comparable {
    case none = 0
    case audit = 1
    case enforce = 2

    public static func < (lhs: Isolation, rhs: Isolation) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The rules for one endpoint and direction. Entries may overlap; the datapath resolves overlaps as
/// deny beats allow, separately for enforced and audit entries (see `PolicyEntry`).
public struct DirectionPolicy: Hashable, Sendable {
    public var isolation: Isolation
    public var entries: [PolicyEntry]

    public init(isolation: Isolation = .none, entries: [PolicyEntry] = []) {
        self.isolation = isolation
        self.entries = entries
    }
}

/// IP protocol numbers the policy language can name.
public enum L4Protocol: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case icmp = 1
    case tcp = 6
    case udp = 17
    case icmpv6 = 58
    case sctp = 132

    public var hasPorts: Bool { self == .tcp || self == .udp || self == .sctp }

    public var description: String {
        switch self {
        case .icmp: "ICMP"
        case .tcp: "TCP"
        case .udp: "UDP"
        case .icmpv6: "ICMPv6"
        case .sctp: "SCTP"
        }
    }
}

/// An inclusive destination port range (`port` .. `endPort`); a single port has `first == last`.
public struct PortRange: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var first: UInt16
    public var last: UInt16

    public init(_ first: UInt16, _ last: UInt16? = nil) {
        self.first = first
        self.last = last ?? first
    }

    public func contains(_ port: UInt16) -> Bool { first <= port && port <= last }

    public var description: String { first == last ? String(first) : "\(first)-\(last)" }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool { (lhs.first, lhs.last) < (rhs.first, rhs.last) }
}

/// What a matching rule does.
public enum RuleAction: UInt8, Hashable, Sendable {
    case allow = 0
    case deny = 1
}

/// Whether a rule's policy is enforced or only audited (`spec.mode: Audit`).
public enum PolicyMode: UInt8, Hashable, Sendable {
    case enforce = 0
    case audit = 1
}

/// One rule as the datapath matches it: remote identity (or any), protocol (or any), destination port range
/// (or any), and what to do.
///
/// Verdict for a packet in an isolated direction, over all matching entries:
/// - enforced: any matching `.enforce` deny -> drop; else any `.enforce` allow -> pass; else drop if
///   `isolation == .enforce`.
/// - audited: the same question asked over all entries (`.enforce` and `.audit`) with isolation `>= .audit`; when it
///   says drop but the enforced answer says pass, the packet passes and an audit event is reported.
public struct PolicyEntry: Hashable, Sendable {
    public var peer: Identity
    public var proto: L4Protocol?
    public var ports: PortRange?
    public var action: RuleAction
    public var mode: PolicyMode
    public var rule: RuleID

    public init(
        peer: Identity, proto: L4Protocol? = nil, ports: PortRange? = nil, action: RuleAction = .allow,
        mode: PolicyMode = .enforce, rule: RuleID
    ) {
        self.peer = peer
        self.proto = proto
        self.ports = ports
        self.action = action
        self.mode = mode
        self.rule = rule
    }
}

/// Identifies one rule of one policy for counters and events; stable for the same policy and rule index.
public struct RuleID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Reported when no rule matched and the default (isolation) decided.
    public static let defaultDeny = RuleID(rawValue: 0)

    public var description: String { String(rawValue) }

    public static func < (lhs: RuleID, rhs: RuleID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What a rule id stands for, in words a user recognises.
public struct RuleInfo: Hashable, Sendable {
    /// `Kind namespace/name`, e.g. `BulwarkPolicy x/deny-db`.
    public var policy: String
    public var direction: Direction
    /// Index in `spec.ingress` or `spec.egress`.
    public var index: Int

    public init(policy: String, direction: Direction, index: Int) {
        self.policy = policy
        self.direction = direction
        self.index = index
    }
}

/// One ipcache entry: every address inside `prefix` (unless a longer entry covers it) has `identity`.
public struct IPCacheEntry: Hashable, Sendable {
    public var prefix: IPPrefix
    public var identity: Identity

    public init(prefix: IPPrefix, identity: Identity) {
        self.prefix = prefix
        self.identity = identity
    }
}
