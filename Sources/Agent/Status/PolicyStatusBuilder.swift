import Foundation
import KubeModel
import PolicyCompiler

/// Builds policy status from reconcile outcomes, following the Kubernetes condition conventions.
///
/// Why separate from the writers: the agent (server-side apply) and standalone mode (files) must report exactly the
/// same status; only where it goes differs.
public enum PolicyStatusBuilder {
    public static let acceptedCondition = "Accepted"
    public static let programmedCondition = "Programmed"

    /// This node's entry in `status.nodes` for one policy.
    public static func nodeEntry(
        node: String, policy reference: PolicyReference, outcome: ReconcileOutcome
    ) -> BulwarkPolicyNodeStatus {
        let result = outcome.compiled.policies[reference]
        let error: String? =
            if let result, !result.accepted {
                result.errors.map(\.description).joined(separator: "; ")
            } else {
                outcome.programmingError
            }
        return BulwarkPolicyNodeStatus(
            name: node, observedGeneration: outcome.generations[reference] ?? 1,
            selectedPods: Int64(result?.selectedPods.count ?? 0),
            programmedEntries: outcome.succeeded ? Int64(result?.programmedEntries ?? 0) : 0, error: error)
    }

    /// The top-level status the leader owns: conditions, observedGeneration and the selected-pod total.
    ///
    /// - Parameters:
    ///   - generation: the policy's current `metadata.generation`.
    ///   - result: the validation outcome (identical on every node, since validation is pure).
    ///   - nodes: every node's entry, as read back from the object.
    ///   - expectedNodes: nodes that run an agent; one without an entry counts as not yet programmed.
    ///   - previous: the conditions currently on the object, so `lastTransitionTime` only moves when a status flips.
    public static func summary(
        generation: Int64, result: PolicyResult?, nodes: [BulwarkPolicyNodeStatus], expectedNodes: Set<String> = [],
        previous: [Condition]?, now: Date = Date()
    ) -> BulwarkPolicyStatus {
        let accepted = result?.accepted ?? true
        let acceptedCondition =
            accepted
            ? condition(acceptedCondition, .true, "Valid", "The policy is valid.", generation, previous, now)
            : condition(
                acceptedCondition, .false, "Invalid",
                (result?.errors ?? []).map(\.description).joined(separator: "; "), generation, previous, now)
        let stale =
            (nodes.filter { ($0.observedGeneration ?? 0) < generation }.map(\.name)
            + expectedNodes.subtracting(nodes.map(\.name))).sorted()
        let failing = nodes.filter { $0.error != nil && accepted }.map(\.name).sorted()
        let programmed: Condition =
            if !accepted {
                condition(
                    programmedCondition, .false, "Invalid", "Invalid policies are not programmed.", generation,
                    previous, now)
            } else if nodes.isEmpty {
                condition(
                    programmedCondition, .unknown, "NoAgents", "No node has reported this policy yet.", generation,
                    previous, now)
            } else if !failing.isEmpty {
                condition(
                    programmedCondition, .false, "ProgrammingFailed",
                    "Programming failed on \(failing.joined(separator: ", ")); their previous state is enforced.",
                    generation, previous, now)
            } else if !stale.isEmpty {
                condition(
                    programmedCondition, .false, "Pending",
                    "Waiting for \(stale.joined(separator: ", ")) to program generation \(generation).", generation,
                    previous, now)
            } else {
                condition(
                    programmedCondition, .true, "Programmed", "Programmed on \(nodes.count) node(s).", generation,
                    previous, now)
            }
        return BulwarkPolicyStatus(
            observedGeneration: generation, conditions: [acceptedCondition, programmed],
            selectedPods: nodes.reduce(0) { $0 + ($1.selectedPods ?? 0) }, nodes: nodes.sorted { $0.name < $1.name })
    }

    private static func condition(
        _ type: String, _ status: ConditionStatus, _ reason: String, _ message: String, _ generation: Int64,
        _ previous: [Condition]?, _ now: Date
    ) -> Condition {
        let old = previous?.first { $0.type == type }
        let transition = old?.status == status ? old!.lastTransitionTime : timestamp(now)
        return Condition(
            type: type, status: status, observedGeneration: generation, lastTransitionTime: transition, reason: reason,
            message: message)
    }

    /// RFC 3339 in UTC with second precision, as `metav1.Time` serialises.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
