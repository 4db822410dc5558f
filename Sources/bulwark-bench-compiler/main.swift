// Benchmark of the policy compiler: full compile of a synthetic cluster, incremental recompiles after one pod label
// change, peak memory. Figures for the README; not a test. Run through `hack/bench-compiler` (release build).
import DataplaneModel
import Foundation
import KubeModel
import PolicyCompiler

struct Options {
    var namespaces = 100
    var podsPerNamespace = 100
    var policiesPerNamespace = 10
    var nodes = 100
    var repetitions = 5
    var changes = 200
    /// `one-node` or `all-local`: run one of the two scenarios (for profiling); nil runs both.
    var only: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--only" {
                only = iterator.next()
                guard only == "one-node" || only == "all-local" else { fatalError("usage: --only one-node|all-local") }
                continue
            }
            guard let value = iterator.next().flatMap(Int.init) else { fatalError("usage: \(flag) NUMBER") }
            switch flag {
            case "--namespaces": namespaces = value
            case "--pods-per-namespace": podsPerNamespace = value
            case "--policies-per-namespace": policiesPerNamespace = value
            case "--nodes": nodes = value
            case "--repetitions": repetitions = value
            case "--changes": changes = value
            default: fatalError("unknown option \(flag)")
            }
        }
    }
}

/// A cluster shaped like a real one: namespaces of 10 apps with 10 replicas each, every app serving named ports,
/// and per namespace a default deny, allows from sibling apps, from a monitoring namespace, to DNS and to CIDRs.
enum SyntheticCluster {
    static let appsPerNamespace = 10

    static func namespaces(_ options: Options) -> [Namespace] {
        (0..<options.namespaces).map { index in
            Namespace(name: "ns-\(index)", labels: ["team": "team-\(index % 7)", "env": index % 2 == 0 ? "prod" : "dev"])
        }
    }

    static func pod(namespace: Int, index: Int, options: Options, labels: [String: String]? = nil) -> Pod {
        let app = index % appsPerNamespace
        let global = namespace * options.podsPerNamespace + index
        let ports = [
            ContainerPort(name: "http", containerPort: 8080), ContainerPort(name: "metrics", containerPort: 9090),
            ContainerPort(name: "grpc", containerPort: 50051),
        ]
        return Pod(
            metadata: ObjectMeta(
                name: "pod-\(index)", namespace: "ns-\(namespace)",
                labels: labels ?? ["app": "app-\(app)", "tier": ["web", "api", "db"][app % 3], "version": "v1"]),
            spec: PodSpec(nodeName: "node-\(global % options.nodes)", containers: [Container(name: "main", ports: ports)]),
            status: PodStatus(
                phase: .running, podIPs: [PodIP(ip: "10.\(global / 65536).\((global / 256) % 256).\(global % 256)")]))
    }

    static func pods(_ options: Options) -> [Pod] {
        (0..<options.namespaces).flatMap { ns in (0..<options.podsPerNamespace).map { pod(namespace: ns, index: $0, options: options) } }
    }

    static func policies(_ options: Options) -> [BulwarkPolicy] {
        var result: [BulwarkPolicy] = []
        for ns in 0..<options.namespaces {
            for index in 0..<options.policiesPerNamespace {
                let app = index % appsPerNamespace
                let selector = LabelSelector(matchLabels: ["app": "app-\(app)"])
                var spec = BulwarkPolicySpec(podSelector: selector)
                switch index % 5 {
                case 0:
                    spec.ingress = [BulwarkIngressRule(
                        from: [NetworkPolicyPeer(podSelector: LabelSelector(matchLabels: ["app": "app-\((app + 1) % appsPerNamespace)"]))],
                        ports: [NetworkPolicyPort(port: .string("http"))])]
                case 1:
                    spec.ingress = [BulwarkIngressRule(
                        from: [NetworkPolicyPeer(
                            podSelector: LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "tier", operator: .in, values: ["web", "api"])]),
                            namespaceSelector: LabelSelector(matchLabels: ["team": "team-\(ns % 7)"]))],
                        ports: [NetworkPolicyPort(port: .int(8080), endPort: 8090)])]
                case 2:
                    spec.ingress = [BulwarkIngressRule(
                        from: [NetworkPolicyPeer(namespaceSelector: LabelSelector(matchLabels: ["kubernetes.io/metadata.name": "ns-0"]))],
                        ports: [NetworkPolicyPort(port: .string("metrics"))])]
                case 3:
                    spec.policyTypes = [.egress]
                    spec.egress = [
                        BulwarkEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "192.168.\(ns % 256).0/24"]))], ports: [NetworkPolicyPort(port: .int(443))]),
                        BulwarkEgressRule(to: [NetworkPolicyPeer(podSelector: LabelSelector(), namespaceSelector: LabelSelector(matchLabels: ["env": "prod"]))], ports: [NetworkPolicyPort(port: .string("grpc"))]),
                    ]
                default:
                    spec.ingress = [
                        BulwarkIngressRule(action: .deny, from: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.\(ns % 40).0/24"))]),
                        BulwarkIngressRule(from: [NetworkPolicyPeer(podSelector: LabelSelector())]),
                    ]
                    spec.mode = ns % 4 == 0 ? .audit : .enforce
                }
                result.append(BulwarkPolicy(metadata: ObjectMeta(name: "policy-\(index)", namespace: "ns-\(ns)"), spec: spec))
            }
        }
        return result
    }
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func summary(_ samples: [Double]) -> String {
    let sorted = samples.sorted()
    let median = sorted[sorted.count / 2]
    let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
    return String(format: "min %.2f ms, median %.2f ms, p99 %.2f ms, max %.2f ms", sorted[0], median, p99, sorted.last!)
}

func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let options = Options(CommandLine.arguments)
let clock = ContinuousClock()
let namespaces = SyntheticCluster.namespaces(options)
var pods = SyntheticCluster.pods(options)
let policies = SyntheticCluster.policies(options)
print("cluster: \(pods.count) pods in \(namespaces.count) namespaces on \(options.nodes) nodes, \(policies.count) policies")

let scenarios = [
    ("one-node", "one node (\(pods.count / options.nodes) local pods)", Optional("node-0")), ("all-local", "all pods local", nil),
]
for (name, label, node) in scenarios where options.only == nil || options.only == name {
    var compiler = PolicyCompiler(node: node)
    var full: [Double] = []
    var result: CompileResult?
    for _ in 0..<options.repetitions {
        let elapsed = clock.measure {
            compiler = PolicyCompiler(node: node)
            for namespace in namespaces { compiler.update(namespace) }
            for pod in pods { compiler.update(pod) }
            for policy in policies { compiler.update(policy) }
            result = compiler.compile()
        }
        full.append(milliseconds(elapsed))
    }
    let desired = result!.desired
    let entries = desired.endpoints.reduce(0) { $0 + $1.ingress.entries.count + $1.egress.entries.count }
    print("\n[\(label)] endpoints \(desired.endpoints.count), policy entries \(entries), ipcache \(desired.ipcache.count), identities \(result!.identities.count)")
    print("  full compile:                         \(summary(full))")

    // One pod (on the measured node) moves between two existing label sets, then to a label set nobody has.
    var existing: [Double] = []
    var fresh: [Double] = []
    let podIndex = 0
    for change in 0..<options.changes {
        var pod = pods[podIndex]
        pod.metadata.labels = ["app": "app-\(change % 2 == 0 ? 3 : 0)", "tier": change % 2 == 0 ? "web" : "web", "version": "v1"]
        existing.append(milliseconds(clock.measure {
            compiler.update(pod)
            _ = compiler.compile()
        }))
        pod.metadata.labels = ["app": "app-0", "tier": "web", "version": "v1", "canary": "\(change)"]
        fresh.append(milliseconds(clock.measure {
            compiler.update(pod)
            _ = compiler.compile()
        }))
    }
    print("  pod relabel to an existing label set: \(summary(existing))")
    print("  pod relabel to a new label set:       \(summary(fresh))")
    pods[podIndex] = SyntheticCluster.pod(namespace: 0, index: podIndex, options: options)
}
print(String(format: "\npeak memory (max RSS): %.1f MiB", peakMemoryMiB()))
