import DataplaneModel
import KubeModel
import PolicyCompiler
import Testing

/// Policies, pods and namespaces changing under a long-lived compiler: updated and deleted policies, relabelled
/// pods and namespaces (upstream "should enforce updated policy", "should allow ingress access from updated
/// namespace/pod", "should stop enforcing policies after they are deleted"), and incremental == from scratch.
@Suite struct IncrementalCompileTests {
    static let denyIngressX = """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya X  X  X  .  .  .  .  .  .
            yb X  X  X  .  .  .  .  .  .
            yc X  X  X  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """
    static let xFromY = """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """

    func expectTable(_ compiler: inout PolicyCompiler, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let actual = Reachability(compiler.compile().desired, port: 80, proto: .tcp)
        #expect(actual == Reachability(expected), sourceLocation: sourceLocation)
    }

    func compiler(for model: ClusterModel) -> PolicyCompiler {
        var compiler = PolicyCompiler(node: nil)
        for namespace in model.namespaces { compiler.update(namespace) }
        for pod in model.podObjects { compiler.update(pod) }
        return compiler
    }

    @Test func aPolicyIsEnforcedThenUpdatedThenStopsWhenDeleted() {
        var compiler = compiler(for: ClusterModel())
        expectTable(&compiler, allConnected)
        compiler.update(networkPolicy("p", types: [.ingress]))
        expectTable(&compiler, Self.denyIngressX)
        compiler.update(networkPolicy("p", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["ns": "y"])])]))
        expectTable(&compiler, Self.xFromY)
        compiler.remove(policy: PolicyReference(kind: .networkPolicy, namespace: "x", name: "p"))
        expectTable(&compiler, allConnected)
    }

    @Test func relabellingANamespaceGrantsAccessFromIt() {
        var compiler = compiler(for: ClusterModel())
        compiler.update(networkPolicy("p", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["team": "blue"])])]))
        expectTable(&compiler, Self.denyIngressX)
        compiler.update(Namespace(name: "y", labels: ["ns": "y", "team": "blue"]))
        expectTable(&compiler, Self.xFromY)
        compiler.update(Namespace(name: "y", labels: ["ns": "y"]))
        expectTable(&compiler, Self.denyIngressX)
    }

    @Test func relabellingAPodGrantsThenRevokesAccess() {
        var model = ClusterModel()
        var compiler = compiler(for: model)
        compiler.update(networkPolicy(
            "p", selecting: selector(["pod": "a"]),
            ingress: [NetworkPolicyIngressRule(from: [peer(pods: ["role": "client"], namespaces: [:])])]))
        expectTable(&compiler, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb X  .  .  .  .  .  .  .  .
            xc X  .  .  .  .  .  .  .  .
            ya X  .  .  .  .  .  .  .  .
            yb X  .  .  .  .  .  .  .  .
            yc X  .  .  .  .  .  .  .  .
            za X  .  .  .  .  .  .  .  .
            zb X  .  .  .  .  .  .  .  .
            zc X  .  .  .  .  .  .  .  .
            """)
        model.podObjects[4].metadata.labels = ["pod": "b", "role": "client"]  // y/b
        compiler.update(model.podObjects[4])
        expectTable(&compiler, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb X  .  .  .  .  .  .  .  .
            xc X  .  .  .  .  .  .  .  .
            ya X  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc X  .  .  .  .  .  .  .  .
            za X  .  .  .  .  .  .  .  .
            zb X  .  .  .  .  .  .  .  .
            zc X  .  .  .  .  .  .  .  .
            """)
        model.podObjects[0].metadata.labels = ["pod": "moved"]  // x/a no longer selected
        compiler.update(model.podObjects[0])
        expectTable(&compiler, allConnected)
    }

    @Test func aDeletedPodLeavesTheIPCacheAndItsEndpointGoes() {
        var compiler = compiler(for: ClusterModel())
        compiler.update(networkPolicy("p", types: [.ingress]))
        let before = compiler.compile().desired
        compiler.remove(podNamed: ObjectKey(namespace: "y", name: "b"))
        let after = compiler.compile().desired
        let address = IPPrefix(host: IPAddress(ClusterModel.address(4))!)
        #expect(before.ipcache.contains { $0.prefix == address })
        #expect(!after.ipcache.contains { $0.prefix == address })
        #expect(after.endpoints.map(\.pod) == ClusterModel.pods.filter { $0 != "y/b" })
    }

    /// A policy that selects no pod on this node has no templates (see `updateTemplates`); once a pod here matches
    /// it, its entries must appear although the policy itself did not change, and go again when the pod leaves.
    @Test func aPolicyIsEnforcedOnTheFirstLocalPodItSelectsAndNotAfterTheLast() throws {
        var model = ClusterModel()
        model.add(PolicyZoo.all.first { $0.metadata.name == "own-clients" }!)
        var compiler = PolicyCompiler(node: "node-1")
        for namespace in model.namespaces { compiler.update(namespace) }
        for pod in model.podObjects { compiler.update(pod) }
        for policy in model.bulwarkPolicies { compiler.update(policy) }
        let reference = PolicyReference(kind: .bulwarkPolicy, namespace: "y", name: "own-clients")
        #expect(compiler.compile().policies[reference]?.selectedPods == [])
        for labels in [["app": "web"], ["pod": "b"]] {
            model.podObjects[4].metadata.labels = labels  // y/b, on node-1
            compiler.update(model.podObjects[4])
            let incremental = compiler.compile()
            #expect(incremental.desired == PolicyCompiler.compile(model.snapshot(node: "node-1")).desired)
            let endpoint = try #require(incremental.desired.endpoints.first { $0.pod == "y/b" })
            #expect(endpoint.ingress.isolation == (labels["app"] == "web" ? .enforce : Isolation.none))
        }
    }

    /// Random changes of every kind, each followed by an incremental compile that must equal a compile from
    /// scratch. Extra replicas make label sets shared by several pods (endpoints sharing entries) and batches big
    /// enough for the ipcache merge; pods move between nodes, leave and come back, change ports and stop being
    /// enforced, so policies gain and lose their last local target (templates built and dropped lazily).
    @Test(arguments: 1...8 as ClosedRange<UInt64>)
    func incrementalCompilesEqualCompilingFromScratch(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var model = ClusterModel(dualStack: true)
        for index in 0..<30 {
            let namespace = ClusterModel.namespaceNames[index % 3]
            model.podObjects.append(ClusterModel.pod(ns: namespace, name: "r\(index)", index: 9 + index, dualStack: true))
        }
        var parked: [Pod] = []
        var compiler = PolicyCompiler(node: "node-1")
        for namespace in model.namespaces { compiler.update(namespace) }
        for pod in model.podObjects { compiler.update(pod) }
        let candidates = PolicyZoo.all
        let labelChoices = [["pod": "a"], ["pod": "b", "role": "client"], ["app": "web"], ["pod": "c"], ["app": "web", "role": "client"]]
        for step in 0..<80 {
            let podIndex = Int(random.next() % UInt64(model.podObjects.count))
            switch random.next() % 9 {
            case 0:
                model.podObjects[podIndex].metadata.labels = labelChoices[Int(random.next() % UInt64(labelChoices.count))]
                compiler.update(model.podObjects[podIndex])
            case 1:
                let index = Int(random.next() % 3)
                let extra = random.next() % 2 == 0 ? ["team": "blue"] : [:]
                model.namespaces[index].metadata.labels = ["ns": ClusterModel.namespaceNames[index]].merging(extra) { $1 }
                compiler.update(model.namespaces[index])
            case 2, 3:
                let policy = candidates[Int(random.next() % UInt64(candidates.count))]
                model.bulwarkPolicies.removeAll { $0.metadata == policy.metadata }
                model.bulwarkPolicies.append(policy)
                compiler.update(policy)
            case 4:
                guard !model.bulwarkPolicies.isEmpty else { continue }
                let policy = model.bulwarkPolicies.remove(at: Int(random.next() % UInt64(model.bulwarkPolicies.count)))
                compiler.remove(policy: PolicyReference(
                    kind: .bulwarkPolicy, namespace: policy.metadata.namespace!, name: policy.metadata.name))
            case 5:
                let node = model.podObjects[podIndex].spec.nodeName
                model.podObjects[podIndex].spec.nodeName = node == "node-1" ? "node-2" : "node-1"
                compiler.update(model.podObjects[podIndex])
            case 6:
                if random.next() % 2 == 0, !parked.isEmpty {
                    let pod = parked.removeLast()
                    model.podObjects.append(pod)
                    compiler.update(pod)
                } else {
                    let pod = model.podObjects.remove(at: podIndex)
                    parked.append(pod)
                    compiler.remove(podNamed: ObjectKey(namespace: pod.metadata.namespace!, name: pod.metadata.name))
                }
            case 7:
                // Named ports move: `serve-80-tcp` now points at 8080 (or back).
                let ports = model.podObjects[podIndex].spec.containers[0].ports!
                model.podObjects[podIndex].spec.containers[0].ports = ports.map { port in
                    guard port.name == "serve-80-tcp" else { return port }
                    var moved = port
                    moved.containerPort = port.containerPort == 80 ? 8080 : 80
                    return moved
                }
                compiler.update(model.podObjects[podIndex])
            default:
                let hostNetwork = model.podObjects[podIndex].spec.hostNetwork ?? false
                model.podObjects[podIndex].spec.hostNetwork = !hostNetwork
                compiler.update(model.podObjects[podIndex])
            }
            let incremental = compiler.compile()
            let scratch = PolicyCompiler.compile(model.snapshot(node: "node-1"))
            #expect(incremental.desired == scratch.desired, "step \(step)")
            #expect(incremental.policies == scratch.policies, "step \(step)")
            #expect(incremental.identities == scratch.identities, "step \(step)")
            if incremental.desired != scratch.desired { break }
        }
    }
}

/// A deterministic random source, so a failing sequence replays.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Policies in namespace x touching every compiler feature, for randomised change sequences.
enum PolicyZoo {
    static let all: [BulwarkPolicy] = [
        bulwarkPolicy("deny-in", types: [.ingress]),
        bulwarkPolicy("from-blue", ingress: [BulwarkIngressRule(from: [peer(namespaces: ["team": "blue"])])]),
        bulwarkPolicy("clients", selecting: selector(["pod": "a"]), ingress: [
            BulwarkIngressRule(from: [peer(pods: ["role": "client"], namespaces: [:])], ports: [port(80, endPort: 81)]),
        ]),
        bulwarkPolicy("cidr", types: [.egress], egress: [
            BulwarkEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.0/28", except: ["10.0.0.12/30"]))]),
            BulwarkEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "fd00::/120"))], ports: [port(81, .udp)]),
        ]),
        bulwarkPolicy("named", egress: [
            BulwarkEgressRule(to: [peer(pods: ["app": "web"], namespaces: [:])], ports: [
                NetworkPolicyPort(port: .string("serve-80-tcp")),
            ]),
            BulwarkEgressRule(ports: [NetworkPolicyPort(protocol: .udp, port: .string("serve-81-udp"))]),
        ]),
        bulwarkPolicy("deny-web", ingress: [
            BulwarkIngressRule(action: .deny, from: [peer(pods: ["app": "web"], namespaces: [:])]),
            BulwarkIngressRule(ports: [NetworkPolicyPort(port: .string("serve-81-tcp"))]),
        ]),
        bulwarkPolicy("audit", mode: .audit, ingress: [BulwarkIngressRule(from: [peer(pods: ["pod": "c"])])]),
        bulwarkPolicy("invalid", ingress: [BulwarkIngressRule(ports: [port(0)])]),
        // In namespace y: peers naming their own namespace and several namespace selectors (the peer index),
        // nested CIDRs with an except inside an except's sibling (longest-prefix selector matching).
        bulwarkPolicy("own-clients", in: "y", selecting: selector(["app": "web"]), ingress: [
            BulwarkIngressRule(from: [peer(pods: ["role": "client"])], ports: [NetworkPolicyPort(port: .string("serve-80-tcp"))]),
        ]),
        bulwarkPolicy("blue-web", in: "y", ingress: [
            BulwarkIngressRule(from: [peer(pods: ["app": "web"], namespaces: ["team": "blue"])]),
            BulwarkIngressRule(action: .deny, from: [peer(pods: ["pod": "c"], namespaces: ["ns": "z"])]),
        ]),
        bulwarkPolicy("nested-cidrs", in: "y", types: [.egress], egress: [
            BulwarkEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.0/26", except: ["10.0.0.32/27"]))]),
            BulwarkEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.32/28"))], ports: [port(80)]),
            BulwarkEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.20/32"))], ports: [port(81)]),
        ]),
    ]
}
