import DataplaneModel
import KubeModel

/// Why traffic from one pod to another is allowed or denied: the policies on each side and the rule that decided.
public struct Explanation: Sendable {
    /// One side of the connection: the source's egress or the destination's ingress.
    public struct Side: Sendable {
        public var pod: ObjectKey
        public var direction: Direction
        /// Nil when the pod is not enforced (host network, no address yet, finished).
        public var decision: Decision?
        /// Why the pod is not enforced, when it is not.
        public var skipped: String?
        /// Policies selecting the pod for this direction, sorted.
        public var policies: [PolicyReference]
        /// What the deciding rule is, in words.
        public var rule: String
    }

    public var source: Side
    public var destination: Side
    /// The overall outcome: denied if either side denies, audited if either side only audits.
    public var verdict: Verdict
}

public enum ExplainError: Error, Equatable, CustomStringConvertible {
    case unknownPod(ObjectKey)

    public var description: String {
        switch self {
        case .unknownPod(let key): "no pod \(key) in the given objects"
        }
    }
}

extension PolicyCompiler {
    /// Explains traffic from pod `from` to pod `to` on `port`/`proto`, over a snapshot compiled for every node.
    public static func explain(
        _ snapshot: ClusterSnapshot, from: ObjectKey, to: ObjectKey, port: UInt16?, proto: L4Protocol
    ) throws(ExplainError) -> Explanation {
        var compiler = PolicyCompiler(node: nil, nodeAddresses: snapshot.nodeAddresses)
        for namespace in snapshot.namespaces { compiler.update(namespace) }
        for pod in snapshot.pods { compiler.update(pod) }
        for policy in snapshot.networkPolicies { compiler.update(policy) }
        for policy in snapshot.bulwarkPolicies { compiler.update(policy) }
        let desired = compiler.compile().desired
        guard let source = compiler.pods[from] else { throw .unknownPod(from) }
        guard let destination = compiler.pods[to] else { throw .unknownPod(to) }
        let egress = compiler.side(source, .egress, remote: destination, desired, port: port, proto: proto)
        let ingress = compiler.side(destination, .ingress, remote: source, desired, port: port, proto: proto)
        let verdicts = [egress.decision?.verdict, ingress.decision?.verdict].compactMap { $0 }
        let verdict: Verdict =
            verdicts.contains(.denied) ? .denied : verdicts.contains(.audited) ? .audited : .allowed
        return Explanation(source: egress, destination: ingress, verdict: verdict)
    }

    private func side(
        _ pod: PodRecord, _ direction: Direction, remote: PodRecord, _ desired: DesiredState, port: UInt16?,
        proto: L4Protocol
    ) -> Explanation.Side {
        let policies = (endpointPolicies[pod.key] ?? []).filter { activePolicies[$0]?.rules(direction) != nil }.sorted()
        var side = Explanation.Side(
            pod: pod.key, direction: direction, decision: nil, skipped: nil, policies: policies, rule: "")
        guard pod.eligible, let endpoint = endpoints[pod.key] else {
            side.skipped = "not enforced: host-network pod, pod without an address, or finished pod"
            side.rule = side.skipped!
            return side
        }
        // The remote address of the pod's own family, as the packet would carry.
        let family = pod.addresses.first!.isV4
        guard let address = remote.addresses.first(where: { $0.isV4 == family }) ?? remote.addresses.first else {
            side.rule = "remote pod has no address"
            return side
        }
        let decision = desired.decide(endpoint, direction, remote: address, proto: proto, port: port)
        side.decision = decision
        switch decision.rule {
        case nil: side.rule = "not isolated for \(direction): no policy selects the pod for it"
        case .defaultDeny?: side.rule = "no rule matched; isolated for \(direction) by \(policies.map(\.description).joined(separator: ", "))"
        case let rule?:
            if let info = desired.rules[rule] {
                side.rule = "\(info.policy) \(info.direction == .ingress ? "ingress" : "egress")[\(info.index)]"
            } else {
                side.rule = "rule \(rule)"
            }
        }
        return side
    }
}
