import DataplaneModel
import KubeModel
import PolicyCompiler
import Testing

/// Truth tables over the 9 pods of `ClusterModel`: which (from, to) pairs get through on one port and protocol.
///
/// A table is written as rows of `.` (passes), `X` (denied) and `A` (passes, reported by an Audit policy), one
/// row per source pod in `x/a ... z/c` order, one column per destination:
///
///     -  xa xb xc ya yb yc za zb zc
///     xa .  .  .  .  .  .  .  .  .
///
/// A pod always reaches itself: loopback traffic never leaves the pod, so no policy applies (as upstream's
/// `AllowLoopback`).
/// The truth table of a cluster without isolation: every pair connects.
let allConnected = """
    -  xa xb xc ya yb yc za zb zc
    xa .  .  .  .  .  .  .  .  .
    xb .  .  .  .  .  .  .  .  .
    xc .  .  .  .  .  .  .  .  .
    ya .  .  .  .  .  .  .  .  .
    yb .  .  .  .  .  .  .  .  .
    yc .  .  .  .  .  .  .  .  .
    za .  .  .  .  .  .  .  .  .
    zb .  .  .  .  .  .  .  .  .
    zc .  .  .  .  .  .  .  .  .
    """

struct Reachability: Equatable, CustomStringConvertible {
    var cells: [[Character]]

    init(_ table: String) {
        cells = table.split(separator: "\n").dropFirst().map { line in
            Array(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().map { $0.first! })
        }
    }

    init(cells: [[Character]]) { self.cells = cells }

    /// Everything passes except what `denied` says.
    static func all(_ symbol: Character = ".") -> Reachability {
        Reachability(cells: Array(repeating: Array(repeating: symbol, count: 9), count: 9))
    }

    /// Evaluates every pair against the compiled state of all nodes.
    init(_ desired: DesiredState, port: UInt16?, proto: L4Protocol) {
        let endpoints = Dictionary(uniqueKeysWithValues: desired.endpoints.map { ($0.pod, $0) })
        cells = ClusterModel.pods.map { from in
            ClusterModel.pods.map { to in
                if from == to { return "." }
                let source = endpoints[from]!
                let target = endpoints[to]!
                let egress = desired.decide(source, .egress, remote: target.addresses[0], proto: proto, port: port)
                let ingress = desired.decide(target, .ingress, remote: source.addresses[0], proto: proto, port: port)
                if !egress.verdict.passes || !ingress.verdict.passes { return "X" }
                return egress.verdict == .audited || ingress.verdict == .audited ? "A" : "."
            }
        }
    }

    var description: String {
        let short = ClusterModel.pods.map { String($0.filter { $0 != "/" }) }
        var text = "\n-  " + short.joined(separator: " ")
        for (row, name) in zip(cells, short) {
            let symbols: [String] = row.map { String($0) }
            text += "\n\(name) " + symbols.joined(separator: "  ")
        }
        return text
    }
}

/// Compiles `model` for the whole cluster and checks its truth table on each port/protocol given.
func expectReachability(
    _ model: ClusterModel, _ expected: String, on probes: [(UInt16, L4Protocol)] = [(80, .tcp)],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let result = PolicyCompiler.compile(model.snapshot(node: nil))
    for policy in result.policies.values {
        #expect(policy.accepted, "policy rejected: \(policy.errors)", sourceLocation: sourceLocation)
    }
    for (port, proto) in probes {
        let actual = Reachability(result.desired, port: port, proto: proto)
        #expect(actual == Reachability(expected), "on \(port)/\(proto)", sourceLocation: sourceLocation)
    }
}

// Builders that keep the conformance cases close to the upstream YAML.

func selector(_ labels: [String: String]) -> LabelSelector { LabelSelector(matchLabels: labels) }

func peer(pods: [String: String]? = nil, namespaces: [String: String]? = nil) -> NetworkPolicyPeer {
    NetworkPolicyPeer(podSelector: pods.map(selector), namespaceSelector: namespaces.map(selector))
}

func port(_ number: Int64, _ proto: NetworkProtocol = .tcp, endPort: Int64? = nil) -> NetworkPolicyPort {
    NetworkPolicyPort(protocol: proto, port: .int(number), endPort: endPort)
}

func networkPolicy(
    _ name: String, in namespace: String = "x", selecting pods: LabelSelector = LabelSelector(),
    types: [PolicyType]? = nil, ingress: [NetworkPolicyIngressRule]? = nil, egress: [NetworkPolicyEgressRule]? = nil
) -> NetworkPolicy {
    NetworkPolicy(
        metadata: ObjectMeta(name: name, namespace: namespace),
        spec: NetworkPolicySpec(podSelector: pods, policyTypes: types, ingress: ingress, egress: egress))
}

func bulwarkPolicy(
    _ name: String, in namespace: String = "x", selecting pods: LabelSelector = LabelSelector(),
    types: [PolicyType]? = nil, mode: BulwarkPolicyMode? = nil, ingress: [BulwarkIngressRule]? = nil,
    egress: [BulwarkEgressRule]? = nil
) -> BulwarkPolicy {
    BulwarkPolicy(
        metadata: ObjectMeta(name: name, namespace: namespace),
        spec: BulwarkPolicySpec(podSelector: pods, policyTypes: types, ingress: ingress, egress: egress, mode: mode))
}
