/// What the agents report about a BulwarkPolicy.
///
/// Why `nodes` is a list-map keyed by node name: every node's agent writes its own entry with server-side apply
/// under its own field manager, so hundreds of agents update one object without conflicts.
public struct BulwarkPolicyStatus: Codable, Hashable, Sendable {
    public var observedGeneration: Int64?
    /// `Accepted` (the spec is valid) and `Programmed` (every node that selects pods has programmed it).
    public var conditions: [Condition]?
    /// Pods the policy selects, across all nodes.
    public var selectedPods: Int64?
    public var nodes: [BulwarkPolicyNodeStatus]?

    public init(
        observedGeneration: Int64? = nil, conditions: [Condition]? = nil, selectedPods: Int64? = nil,
        nodes: [BulwarkPolicyNodeStatus]? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.conditions = conditions
        self.selectedPods = selectedPods
        self.nodes = nodes
    }
}

/// One node's view of a policy, written by that node's agent only.
public struct BulwarkPolicyNodeStatus: Codable, Hashable, Sendable {
    public var name: String
    public var observedGeneration: Int64?
    public var selectedPods: Int64?
    public var programmedEntries: Int64?
    /// Why programming failed on this node; absent when it succeeded.
    public var error: String?

    public init(
        name: String, observedGeneration: Int64? = nil, selectedPods: Int64? = nil, programmedEntries: Int64? = nil,
        error: String? = nil
    ) {
        self.name = name
        self.observedGeneration = observedGeneration
        self.selectedPods = selectedPods
        self.programmedEntries = programmedEntries
        self.error = error
    }
}

/// A Kubernetes condition (`metav1.Condition`), per the API conventions.
public struct Condition: Codable, Hashable, Sendable {
    /// CamelCase condition type, e.g. `Accepted`.
    public var type: String
    public var status: ConditionStatus
    public var observedGeneration: Int64?
    /// RFC 3339 time the status last changed.
    public var lastTransitionTime: String
    /// CamelCase machine-readable reason.
    public var reason: String
    public var message: String

    public init(
        type: String, status: ConditionStatus, observedGeneration: Int64? = nil, lastTransitionTime: String,
        reason: String, message: String
    ) {
        self.type = type
        self.status = status
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }
}

public enum ConditionStatus: String, Codable, Hashable, Sendable {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"
}
