import DataplaneModel
import KubeModel
@testable import PolicyCompiler

/// The upstream NetworkPolicy e2e model: namespaces x, y, z, each with pods a, b, c (label `pod=<name>`), every pod
/// serving TCP, UDP and SCTP on ports 80 and 81 (container ports named `serve-80-tcp` etc.).
///
/// Pods sit on two nodes so tests cover "only local pods are endpoints"; `compileForAllNodes` compiles once per
/// node and merges the endpoints, which is what the cluster as a whole enforces.
struct ClusterModel {
    static let namespaceNames = ["x", "y", "z"]
    static let podNames = ["a", "b", "c"]
    /// `x/a`, `x/b`, ... in row/column order of the truth tables.
    static let pods = namespaceNames.flatMap { ns in podNames.map { "\(ns)/\($0)" } }

    var namespaces: [Namespace] = namespaceNames.map { Namespace(name: $0, labels: ["ns": $0]) }
    var podObjects: [Pod] = []
    var networkPolicies: [NetworkPolicy] = []
    var bulwarkPolicies: [BulwarkPolicy] = []

    init(dualStack: Bool = false) {
        for (nsIndex, ns) in Self.namespaceNames.enumerated() {
            for (podIndex, name) in Self.podNames.enumerated() {
                podObjects.append(Self.pod(ns: ns, name: name, index: nsIndex * 3 + podIndex, dualStack: dualStack))
            }
        }
    }

    static func address(_ index: Int) -> String { "10.0.0.\(index + 10)" }
    static func address6(_ index: Int) -> String { "fd00::\(index + 10)" }

    static func pod(ns: String, name: String, index: Int, dualStack: Bool = false) -> Pod {
        let ports = [80, 81].flatMap { port in
            ["TCP", "UDP", "SCTP"].map { proto in
                ContainerPort(name: "serve-\(port)-\(proto.lowercased())", containerPort: Int32(port), protocol: proto)
            }
        }
        var ips = [PodIP(ip: address(index))]
        if dualStack { ips.append(PodIP(ip: address6(index))) }
        return Pod(
            metadata: ObjectMeta(name: name, namespace: ns, labels: ["pod": name]),
            spec: PodSpec(nodeName: index % 2 == 0 ? "node-1" : "node-2", containers: [Container(name: "c", ports: ports)]),
            status: PodStatus(phase: .running, podIP: address(index), podIPs: ips))
    }

    mutating func add(_ policy: NetworkPolicy) { networkPolicies.append(policy) }
    mutating func add(_ policy: BulwarkPolicy) { bulwarkPolicies.append(policy) }

    func snapshot(node: String?) -> ClusterSnapshot {
        ClusterSnapshot(
            node: node, pods: podObjects, namespaces: namespaces, networkPolicies: networkPolicies,
            bulwarkPolicies: bulwarkPolicies)
    }
}
