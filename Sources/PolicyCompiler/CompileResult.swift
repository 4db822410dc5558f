import DataplaneModel
import KubeModel

/// What one compilation produces: the node's desired dataplane state and a verdict on every policy.
public struct CompileResult: Sendable {
    public var desired: DesiredState
    /// Every policy known to the compiler, accepted or not.
    public var policies: [PolicyReference: PolicyResult]
    /// What each allocated identity stands for (for `explain`, `inspect` and events).
    public var identities: [Identity: IdentityKey]

    public init(desired: DesiredState, policies: [PolicyReference: PolicyResult], identities: [Identity: IdentityKey]) {
        self.desired = desired
        self.policies = policies
        self.identities = identities
    }
}

/// The outcome for one policy on this node.
public struct PolicyResult: Hashable, Sendable {
    /// False when validation failed; the policy then contributes nothing.
    public var accepted: Bool
    public var errors: [FieldError]
    /// Local pods the policy selects, sorted.
    public var selectedPods: [ObjectKey]
    /// Policy entries of this policy across all local endpoints.
    public var programmedEntries: Int

    public init(accepted: Bool, errors: [FieldError] = [], selectedPods: [ObjectKey] = [], programmedEntries: Int = 0) {
        self.accepted = accepted
        self.errors = errors
        self.selectedPods = selectedPods
        self.programmedEntries = programmedEntries
    }
}

extension RuleID {
    /// Allows traffic from the local node into an isolated pod: Kubernetes always allows node <-> pod traffic
    /// (kubelet probes), whatever the policies say.
    public static let nodeIngress = RuleID(rawValue: 1)
    /// Allows traffic from an isolated pod to the local node.
    public static let nodeEgress = RuleID(rawValue: 2)
}
