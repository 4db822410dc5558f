/// A standard `networking.k8s.io/v1` NetworkPolicy.
public struct NetworkPolicy: KubeResource, Hashable {
    public static let group = "networking.k8s.io"
    public static let version = "v1"
    public static let kind = "NetworkPolicy"
    public static let plural = "networkpolicies"
    public static let namespaced = true

    public var metadata: ObjectMeta
    public var spec: NetworkPolicySpec

    public init(metadata: ObjectMeta, spec: NetworkPolicySpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct NetworkPolicySpec: Codable, Hashable, Sendable {
    /// Pods in the policy's namespace this policy applies to; empty selects all of them.
    public var podSelector: LabelSelector
    /// Absent: `Ingress`, plus `Egress` when `egress` has rules.
    public var policyTypes: [PolicyType]?
    public var ingress: [NetworkPolicyIngressRule]?
    public var egress: [NetworkPolicyEgressRule]?

    public init(
        podSelector: LabelSelector = LabelSelector(), policyTypes: [PolicyType]? = nil,
        ingress: [NetworkPolicyIngressRule]? = nil, egress: [NetworkPolicyEgressRule]? = nil
    ) {
        self.podSelector = podSelector
        self.policyTypes = policyTypes
        self.ingress = ingress
        self.egress = egress
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        podSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .podSelector) ?? LabelSelector()
        policyTypes = try container.decodeIfPresent([PolicyType].self, forKey: .policyTypes)
        ingress = try container.decodeIfPresent([NetworkPolicyIngressRule].self, forKey: .ingress)
        egress = try container.decodeIfPresent([NetworkPolicyEgressRule].self, forKey: .egress)
    }
}

/// Traffic a rule allows into the selected pods. Absent or empty `from` means every source; absent or empty
/// `ports` means every port.
public struct NetworkPolicyIngressRule: Codable, Hashable, Sendable {
    public var from: [NetworkPolicyPeer]?
    public var ports: [NetworkPolicyPort]?

    public init(from: [NetworkPolicyPeer]? = nil, ports: [NetworkPolicyPort]? = nil) {
        self.from = from
        self.ports = ports
    }
}

/// Traffic a rule allows out of the selected pods. Absent or empty `to` means every destination.
public struct NetworkPolicyEgressRule: Codable, Hashable, Sendable {
    public var to: [NetworkPolicyPeer]?
    public var ports: [NetworkPolicyPort]?

    public init(to: [NetworkPolicyPeer]? = nil, ports: [NetworkPolicyPort]? = nil) {
        self.to = to
        self.ports = ports
    }
}

/// One peer: pods (`podSelector`, in the policy's namespace unless `namespaceSelector` is also set), all pods of
/// some namespaces (`namespaceSelector`), both ANDed, or addresses (`ipBlock`, alone).
public struct NetworkPolicyPeer: Codable, Hashable, Sendable {
    public var podSelector: LabelSelector?
    public var namespaceSelector: LabelSelector?
    public var ipBlock: IPBlock?

    public init(podSelector: LabelSelector? = nil, namespaceSelector: LabelSelector? = nil, ipBlock: IPBlock? = nil) {
        self.podSelector = podSelector
        self.namespaceSelector = namespaceSelector
        self.ipBlock = ipBlock
    }
}

/// A CIDR and the prefixes inside it that are excluded.
public struct IPBlock: Codable, Hashable, Sendable {
    public var cidr: String
    public var except: [String]?

    public init(cidr: String, except: [String]? = nil) {
        self.cidr = cidr
        self.except = except
    }
}

/// A protocol and a port (number or container port name), or a range `port`...`endPort`.
public struct NetworkPolicyPort: Codable, Hashable, Sendable {
    /// `TCP` when absent.
    public var `protocol`: NetworkProtocol?
    /// Absent: every port of the protocol.
    public var port: IntOrString?
    public var endPort: Int64?

    public init(protocol: NetworkProtocol? = nil, port: IntOrString? = nil, endPort: Int64? = nil) {
        self.protocol = `protocol`
        self.port = port
        self.endPort = endPort
    }
}

/// `Ingress` or `Egress`; string-backed so an unknown value is reported by validation with its field path.
public struct PolicyType: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let ingress = Self(rawValue: "Ingress")
    public static let egress = Self(rawValue: "Egress")

    public var description: String { rawValue }
}

/// A protocol name as policies write it. NetworkPolicy knows `TCP`, `UDP`, `SCTP`; BulwarkPolicy adds `ICMP` and
/// `ICMPv6`. String-backed so an unknown name is reported by validation, not by the decoder.
public struct NetworkProtocol: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let tcp = Self(rawValue: "TCP")
    public static let udp = Self(rawValue: "UDP")
    public static let sctp = Self(rawValue: "SCTP")
    public static let icmp = Self(rawValue: "ICMP")
    public static let icmpv6 = Self(rawValue: "ICMPv6")

    public var description: String { rawValue }
}
