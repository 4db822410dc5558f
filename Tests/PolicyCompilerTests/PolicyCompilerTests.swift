import DataplaneModel
import KubeModel
@testable import PolicyCompiler
import Testing

/// Compiler behaviour beyond truth tables: locality, skipped pods, identities, ipcache, rule ids, results.
@Suite struct PolicyCompilerTests {
    func endpoint(_ result: CompileResult, _ pod: String) -> Endpoint? { result.desired.endpoints.first { $0.pod == pod } }
    func identity(_ result: CompileResult, of address: String) -> Identity {
        result.desired.identity(of: IPAddress(address)!)
    }

    @Test func onlyPodsOfTheLocalNodeBecomeEndpointsButEveryPodIsInTheIPCache() {
        let result = PolicyCompiler.compile(ClusterModel().snapshot(node: "node-1"))
        #expect(result.desired.endpoints.map(\.pod) == ["x/a", "x/c", "y/b", "z/a", "z/c"])
        #expect(result.desired.ipcache.filter { $0.prefix.length == 32 }.count == 9)
    }

    @Test func hostNetworkPodsPodsWithoutAddressesAndFinishedPodsAreSkipped() {
        var model = ClusterModel()
        model.podObjects[0].spec.hostNetwork = true
        model.podObjects[1].status = PodStatus(phase: .pending)
        model.podObjects[2].status?.phase = .succeeded
        model.add(networkPolicy("allow-from-x", in: "y", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["ns": "x"])])]))
        let result = PolicyCompiler.compile(model.snapshot(node: nil))
        #expect(result.desired.endpoints.map(\.pod) == Array(ClusterModel.pods.dropFirst(3)))
        for index in 0..<3 { #expect(identity(result, of: ClusterModel.address(index)) == .world) }
        let ya = endpoint(result, "y/a")!
        #expect(ya.ingress.entries.map(\.peer) == [.host])  // namespace x selects no pod with an identity
    }

    @Test func theNodesAddressesAreTheHostIdentityAndAlwaysAllowed() {
        var snapshot = ClusterModel().snapshot(node: "node-1")
        snapshot.nodeAddresses = [IPAddress("172.18.0.2")!]
        snapshot.networkPolicies = [
            networkPolicy("deny", types: [.ingress, .egress]),
            networkPolicy("cidr", in: "y", ingress: [
                NetworkPolicyIngressRule(from: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "172.18.0.0/16"))]),
            ]),
        ]
        let result = PolicyCompiler.compile(snapshot)
        #expect(identity(result, of: "172.18.0.2") == .host)
        let xa = endpoint(result, "x/a")!
        #expect(xa.ingress.entries == [PolicyEntry(peer: .host, rule: .nodeIngress)])
        #expect(xa.egress.entries == [PolicyEntry(peer: .host, rule: .nodeEgress)])
        #expect(result.desired.decide(xa, .ingress, remote: IPAddress("172.18.0.2")!, proto: .tcp, port: 80).verdict == .allowed)
        let yb = endpoint(result, "y/b")!
        #expect(yb.ingress.entries.map(\.peer).contains(.host))
        let cidrIdentity = identity(result, of: "172.18.9.9")
        #expect(cidrIdentity.rawValue >= Identity.firstAllocated)
        #expect(yb.ingress.entries.map(\.peer).contains(cidrIdentity))
    }

    @Test func identitiesDependOnlyOnLabelsAndAreStableAcrossCompilers() {
        let model = ClusterModel()
        var reversed = model.snapshot(node: nil)
        reversed.pods.reverse()
        reversed.namespaces.reverse()
        let one = PolicyCompiler.compile(model.snapshot(node: nil))
        let two = PolicyCompiler.compile(reversed)
        #expect(one.desired == two.desired)
        let addresses = (0..<9).map { identity(one, of: ClusterModel.address($0)) }
        #expect(Set(addresses).count == 9)
        #expect(addresses.allSatisfy { $0.rawValue >= Identity.firstAllocated })

        var twin = model
        twin.podObjects.append(ClusterModel.pod(ns: "x", name: "a", index: 20))
        twin.podObjects[9].metadata.name = "a-2"
        let withTwin = PolicyCompiler.compile(twin.snapshot(node: nil))
        #expect(identity(withTwin, of: ClusterModel.address(20)) == identity(withTwin, of: ClusterModel.address(0)))
        #expect(identity(withTwin, of: ClusterModel.address(0)) == addresses[0])

        var relabelled = model
        relabelled.namespaces[0].metadata.labels = ["ns": "x", "team": "blue"]
        let afterRelabel = PolicyCompiler.compile(relabelled.snapshot(node: nil))
        #expect(identity(afterRelabel, of: ClusterModel.address(0)) != addresses[0])
        #expect(identity(afterRelabel, of: ClusterModel.address(3)) == addresses[3])
    }

    @Test func everyCIDRAndExceptPrefixIsInTheIPCacheAndPodsInsideCarryTheSelector() {
        var model = ClusterModel()
        model.add(networkPolicy("egress", types: [.egress], egress: [
            NetworkPolicyEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.0/28", except: ["10.0.0.12/30"]))]),
            NetworkPolicyEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "0.0.0.0/0"))], ports: [port(443)]),
        ]))
        let result = PolicyCompiler.compile(model.snapshot(node: nil))
        let prefixes = Set(result.desired.ipcache.map(\.prefix.description))
        #expect(prefixes.isSuperset(of: ["0.0.0.0/0", "::/0", "10.0.0.0/28", "10.0.0.12/30"]))
        #expect(result.desired.ipcache.first { $0.prefix.description == "::/0" }?.identity == .world)
        let everywhere = identity(result, of: "8.8.8.8")
        let inCIDR = identity(result, of: "10.0.0.1")
        let inExcept = identity(result, of: "10.0.0.13")  // y/a: a pod inside the except
        #expect(Set([everywhere, inCIDR, inExcept, Identity.world]).count == 4)
        #expect(result.identities[inCIDR]?.cidrSelectors == ["0.0.0.0/0", "10.0.0.0/28 except 10.0.0.12/30"])
        #expect(result.identities[inExcept]?.cidrSelectors == ["0.0.0.0/0"])
        #expect(result.identities[inExcept]?.labels?.podLabels == ["pod": "a"])
        // x/a (10.0.0.10) is inside the cidr, y/b (10.0.0.14) inside the except: both keep their labels.
        #expect(result.identities[identity(result, of: "10.0.0.10")]?.labels?.podLabels == ["pod": "a"])
        #expect(result.identities[identity(result, of: "10.0.0.10")]?.cidrSelectors.count == 2)
        #expect(result.identities[identity(result, of: "10.0.0.14")]?.cidrSelectors == ["0.0.0.0/0"])
        let xa = endpoint(result, "x/a")!
        let anywhere443 = xa.egress.entries.filter { $0.ports == PortRange(443) }.map(\.peer)
        // Every pod, plus the two address classes outside pods: {0.0.0.0/0} and
        // {0.0.0.0/0, 10.0.0.0/28 except ...}.
        #expect(anywhere443.count == 9 + 2)
        #expect(identity(result, of: "10.0.0.3") == inCIDR)
    }

    @Test func aNamedPortIsResolvedOnEachPodThatOwnsIt() {
        var model = ClusterModel()
        // z/c serves "web" on 8080, every other pod on 80; x/b has no port named "web".
        for index in 0..<9 where index != 1 {
            model.podObjects[index].spec.containers[0].ports!.append(
                ContainerPort(name: "web", containerPort: index == 8 ? 8080 : 80))
        }
        model.podObjects[8].metadata.labels = ["pod": "c"]
        model.add(networkPolicy("egress-web", selecting: selector(["pod": "a"]), types: [.egress], egress: [
            NetworkPolicyEgressRule(to: [peer(pods: ["pod": "c"], namespaces: [:])], ports: [NetworkPolicyPort(port: .string("web"))]),
        ]))
        model.add(networkPolicy("ingress-web", ingress: [NetworkPolicyIngressRule(ports: [NetworkPolicyPort(port: .string("web"))])]))
        let result = PolicyCompiler.compile(model.snapshot(node: nil))
        let xa = endpoint(result, "x/a")!
        let egress = Dictionary(uniqueKeysWithValues: xa.egress.entries.filter { $0.peer != .host }.map { ($0.peer, $0.ports!) })
        #expect(egress[identity(result, of: ClusterModel.address(2))] == PortRange(80))  // x/c
        #expect(egress[identity(result, of: ClusterModel.address(8))] == PortRange(8080))  // z/c
        #expect(egress.count == 3)
        #expect(xa.ingress.entries.contains { $0.peer == .any && $0.ports == PortRange(80) })
        #expect(endpoint(result, "x/b")!.ingress.entries == [PolicyEntry(peer: .host, rule: .nodeIngress)])
        let zc = result.desired.endpoints.first { $0.pod == "z/c" }!
        #expect(result.desired.decide(xa, .egress, remote: zc.addresses[0], proto: .tcp, port: 8080).verdict == .allowed)
        #expect(result.desired.decide(xa, .egress, remote: zc.addresses[0], proto: .tcp, port: 80).verdict == .denied)
    }

    @Test func anIPv4BlockDoesNotMatchThePodsIPv6Address() {
        var model = ClusterModel(dualStack: true)
        model.add(networkPolicy("v4-only", in: "y", ingress: [
            NetworkPolicyIngressRule(from: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.10/32"))]),
        ]))
        let result = PolicyCompiler.compile(model.snapshot(node: nil))
        let ya = endpoint(result, "y/a")!
        #expect(result.desired.decide(ya, .ingress, remote: IPAddress("10.0.0.10")!, proto: .tcp, port: 80).verdict == .allowed)
        #expect(result.desired.decide(ya, .ingress, remote: IPAddress("fd00::10")!, proto: .tcp, port: 80).verdict == .denied)
        // Each address has its own identity: the labels plus the ipBlocks containing that address.
        let v6 = result.identities[identity(result, of: "fd00::10")]
        #expect(v6?.labels?.podLabels == ["pod": "a"] && v6?.cidrSelectors == [])
        #expect(result.identities[endpoint(result, "x/a")!.identity]?.cidrSelectors == ["10.0.0.10/32"])
    }

    @Test func ruleIDsAreStableAndDescribed() {
        var model = ClusterModel()
        model.add(bulwarkPolicy("p", ingress: [BulwarkIngressRule(), BulwarkIngressRule(action: .deny)], egress: [BulwarkEgressRule()]))
        let one = PolicyCompiler.compile(model.snapshot(node: nil))
        model.add(networkPolicy("other", ingress: [NetworkPolicyIngressRule()]))
        let two = PolicyCompiler.compile(model.snapshot(node: nil))
        let described = one.desired.rules.filter { $0.value.policy == "BulwarkPolicy x/p" }
        #expect(Set(described.values.map { "\($0.direction)[\($0.index)]" }) == ["ingress[0]", "ingress[1]", "egress[0]"])
        for (id, info) in described {
            #expect(two.desired.rules[id] == info)
            #expect(id.rawValue >= Identity.firstAllocated)
        }
        #expect(one.desired.rules[.defaultDeny] == nil)
    }

    @Test func resultsCountSelectedLocalPodsAndProgrammedEntries() {
        var model = ClusterModel()
        model.add(networkPolicy("from-y", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["ns": "y"])], ports: [port(80), port(81)])]))
        let result = PolicyCompiler.compile(model.snapshot(node: "node-1"))
        let policy = result.policies[PolicyReference(kind: .networkPolicy, namespace: "x", name: "from-y")]!
        #expect(policy.accepted)
        #expect(policy.selectedPods == [ObjectKey(namespace: "x", name: "a"), ObjectKey(namespace: "x", name: "c")])
        #expect(policy.programmedEntries == 2 * 3 * 2)  // 2 local pods x 3 peers x 2 ports
    }

    @Test func theVerdictFollowsTheDocumentedAuditSemantics() {
        let peer = Identity(rawValue: 300)
        let rule = RuleID(rawValue: 1000)
        let audit = RuleID(rawValue: 1001)
        let state = DesiredState(ipcache: [IPCacheEntry(prefix: IPPrefix("10.1.0.0/16")!, identity: peer)])
        func verdict(_ isolation: Isolation, _ entries: [PolicyEntry]) -> Decision {
            let endpoint = Endpoint(pod: "x/a", addresses: [], identity: Identity(rawValue: 301), ingress: DirectionPolicy(isolation: isolation, entries: entries))
            return state.decide(endpoint, .ingress, remote: IPAddress("10.1.2.3")!, proto: .tcp, port: 80)
        }
        #expect(verdict(.none, []) == Decision(verdict: .allowed, rule: nil, remoteIdentity: peer))
        #expect(verdict(.enforce, []) == Decision(verdict: .denied, rule: .defaultDeny, remoteIdentity: peer))
        #expect(verdict(.audit, []) == Decision(verdict: .audited, rule: .defaultDeny, remoteIdentity: peer))
        let allow = PolicyEntry(peer: peer, proto: .tcp, ports: PortRange(80, 81), rule: rule)
        let auditDeny = PolicyEntry(peer: .any, action: .deny, mode: .audit, rule: audit)
        let auditAllow = PolicyEntry(peer: .any, mode: .audit, rule: audit)
        #expect(verdict(.enforce, [allow]).verdict == .allowed)
        #expect(verdict(.enforce, [allow, auditDeny]) == Decision(verdict: .audited, rule: audit, remoteIdentity: peer))
        #expect(verdict(.enforce, [auditAllow]) == Decision(verdict: .denied, rule: .defaultDeny, remoteIdentity: peer))
        #expect(verdict(.audit, [auditAllow]) == Decision(verdict: .allowed, rule: audit, remoteIdentity: peer))
        #expect(verdict(.enforce, [allow, PolicyEntry(peer: .any, proto: .tcp, action: .deny, rule: audit)]).verdict == .denied)
    }
}
