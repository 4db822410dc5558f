/// A `bulwark.dev/v1alpha1` BulwarkPolicy: a NetworkPolicy superset with Deny rules, ICMP and an audit mode.
///
/// Why a superset rather than a different language: users already know NetworkPolicy; every valid NetworkPolicy spec
/// is a valid BulwarkPolicy spec with the same meaning.
public struct BulwarkPolicy: KubeResource, Hashable {
    public static let group = "bulwark.dev"
    public static let version = "v1alpha1"
    public static let kind = "BulwarkPolicy"
    public static let plural = "bulwarkpolicies"
    public static let namespaced = true

    public var metadata: ObjectMeta
    public var spec: BulwarkPolicySpec
    public var status: BulwarkPolicyStatus?

    public init(metadata: ObjectMeta, spec: BulwarkPolicySpec, status: BulwarkPolicyStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct BulwarkPolicySpec: Codable, Hashable, Sendable {
    public var podSelector: LabelSelector
    public var policyTypes: [PolicyType]?
    public var ingress: [BulwarkIngressRule]?
    public var egress: [BulwarkEgressRule]?
    /// `Enforce` when absent.
    public var mode: BulwarkPolicyMode?

    public init(
        podSelector: LabelSelector = LabelSelector(), policyTypes: [PolicyType]? = nil,
        ingress: [BulwarkIngressRule]? = nil, egress: [BulwarkEgressRule]? = nil, mode: BulwarkPolicyMode? = nil
    ) {
        self.podSelector = podSelector
        self.policyTypes = policyTypes
        self.ingress = ingress
        self.egress = egress
        self.mode = mode
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        podSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .podSelector) ?? LabelSelector()
        policyTypes = try container.decodeIfPresent([PolicyType].self, forKey: .policyTypes)
        ingress = try container.decodeIfPresent([BulwarkIngressRule].self, forKey: .ingress)
        egress = try container.decodeIfPresent([BulwarkEgressRule].self, forKey: .egress)
        mode = try container.decodeIfPresent(BulwarkPolicyMode.self, forKey: .mode)
    }
}

public struct BulwarkIngressRule: Codable, Hashable, Sendable {
    /// `Allow` when absent.
    public var action: BulwarkRuleAction?
    public var from: [NetworkPolicyPeer]?
    public var ports: [NetworkPolicyPort]?

    public init(action: BulwarkRuleAction? = nil, from: [NetworkPolicyPeer]? = nil, ports: [NetworkPolicyPort]? = nil) {
        self.action = action
        self.from = from
        self.ports = ports
    }
}

public struct BulwarkEgressRule: Codable, Hashable, Sendable {
    /// `Allow` when absent.
    public var action: BulwarkRuleAction?
    public var to: [NetworkPolicyPeer]?
    public var ports: [NetworkPolicyPort]?

    public init(action: BulwarkRuleAction? = nil, to: [NetworkPolicyPeer]? = nil, ports: [NetworkPolicyPort]? = nil) {
        self.action = action
        self.to = to
        self.ports = ports
    }
}

/// `Allow` or `Deny`; a Deny that matches beats every Allow of every policy selecting the pod.
public struct BulwarkRuleAction: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let allow = Self(rawValue: "Allow")
    public static let deny = Self(rawValue: "Deny")

    public var description: String { rawValue }
}

/// `Enforce` or `Audit`: an Audit policy lets traffic through and reports what it would have denied.
public struct BulwarkPolicyMode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let enforce = Self(rawValue: "Enforce")
    public static let audit = Self(rawValue: "Audit")

    public var description: String { rawValue }
}
