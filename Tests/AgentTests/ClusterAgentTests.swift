import BulwarkTesting
import Datapath
import Foundation
import KubeClient
import KubeModel
import Logging
import Testing
import YAML

@testable import Agent

/// The cluster agent end to end: the test API server, two agents (two node names), netns pods, real probes.
@Suite(.enabled(if: getuid() == 0, "loads eBPF and creates network namespaces: needs root"))
struct ClusterAgentTests {
    private static func agent(_ node: String, kubeconfig: String, state: String) -> (ClusterAgent, String) {
        let pinRoot = uniquePinRoot()
        let options = ClusterAgent.Options(
            nodeName: node, kubeconfig: kubeconfig, pinRoot: pinRoot, bindAddress: nil, stateDirectory: state,
            agentNamespace: "bulwark-system", identity: "agent-\(node)")
        var logger = Logger(label: "test.\(node)")
        logger.logLevel = .warning
        return (ClusterAgent(options: options, logger: logger), pinRoot)
    }

    @Test func agentsEnforceClusterPoliciesFollowChangesAndReportStatus() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let kubeconfig = try server.writeKubeconfig(auth: .clientCertificate)
        let cluster = TestCluster(client: KubeClient(config: try ClientConfig.load(kubeconfig: kubeconfig)))
        let a = try NetNSPod()
        let b = try NetNSPod()
        let c = try NetNSPod()
        try b.serve(tcp: [80, 81], udp: [53])

        for namespace in ["x", "z", "bulwark-system"] {
            try await cluster.create(Namespace.self, "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(namespace)}")
        }
        try await cluster.createPod("x", "a", app: "a", node: "node-a", address: a.address)
        try await cluster.createPod("x", "b", app: "b", node: "node-a", address: b.address)
        try await cluster.createPod("z", "c", app: "c", node: "node-a", address: c.address)
        // The agent pods: the nodes that run one are the nodes expected to report status.
        try await cluster.createPod("bulwark-system", "bulwark-1", app: "agent", node: "node-a", address: "192.0.2.1")
        try await cluster.createPod("bulwark-system", "bulwark-2", app: "agent", node: "node-b", address: "192.0.2.2")
        for name in ["bulwark-1", "bulwark-2"] {
            try await cluster.patch(
                Pod.self, "bulwark-system", name,
                #"{"metadata":{"labels":{"app.kubernetes.io/name":"bulwark","app.kubernetes.io/component":"agent"}}}"#)
        }
        try await cluster.create(
            BulwarkPolicy.self,
            """
            apiVersion: bulwark.dev/v1alpha1
            kind: BulwarkPolicy
            metadata: {name: web, namespace: x}
            spec:
              podSelector: {matchLabels: {app: b}}
              ingress:
                - from: [{podSelector: {}}]
                  ports: [{protocol: TCP, port: 80}]
            """)

        let state = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (agentA, pinA) = Self.agent("node-a", kubeconfig: kubeconfig, state: state + "/a")
        let (agentB, pinB) = Self.agent("node-b", kubeconfig: kubeconfig, state: state + "/b")
        defer {
            try? Datapath.removePins(at: pinA)
            try? Datapath.removePins(at: pinB)
        }
        let runA = Task { try await agentA.run() }
        let runB = Task { try await agentB.run() }
        defer {
            runA.cancel()
            runB.cancel()
        }

        // Status: each agent owns its node entry (written concurrently), the leader owns the conditions.
        #expect(
            try await eventually(within: .seconds(20)) {
                let status = try await cluster.policy("x", "web").status
                return status?.nodes?.count == 2 && status?.conditions?.last?.status == .true
            })
        let status = try #require(try await cluster.policy("x", "web").status)
        let nodes = Dictionary(uniqueKeysWithValues: (status.nodes ?? []).map { ($0.name, $0) })
        #expect(nodes["node-a"]?.selectedPods == 1)
        #expect(nodes["node-a"]?.observedGeneration == 1)
        #expect(nodes["node-b"]?.selectedPods == 0)
        #expect(status.observedGeneration == 1)
        #expect(status.conditions?.map(\.type) == ["Accepted", "Programmed"])

        // Programmed means enforced: same namespace on 80 only.
        #expect(try a.canConnect(to: b.address, port: 80, timeout: 0.5))
        #expect(try !a.canConnect(to: b.address, port: 81, timeout: 0.3))
        #expect(try !c.canConnect(to: b.address, port: 80, timeout: 0.3))

        // A spec change (namespace z admitted) is enforced within a second and reported with the new generation.
        try await cluster.patch(
            BulwarkPolicy.self, "x", "web",
            #"""
            {"spec":{"ingress":[{"from":[{"podSelector":{}},
              {"namespaceSelector":{"matchLabels":{"team":"trusted"}}}],"ports":[{"protocol":"TCP","port":80}]}]}}
            """#)
        #expect(try !c.canConnect(to: b.address, port: 80, timeout: 0.3))
        // A namespace label change brings z in.
        try await cluster.patch(Namespace.self, nil, "z", #"{"metadata":{"labels":{"team":"trusted"}}}"#)
        #expect(try await eventually(within: .seconds(1)) { try c.canConnect(to: b.address, port: 80, timeout: 0.2) })
        #expect(
            try await eventually(within: .seconds(5)) {
                try await cluster.policy("x", "web").status?.nodes?.allSatisfy { $0.observedGeneration == 2 } == true
            })

        // A pod label change: a NetworkPolicy admits app=friend on 81; relabelling a brings it in.
        try await cluster.create(
            NetworkPolicy.self,
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: friends, namespace: x}
            spec:
              podSelector: {matchLabels: {app: b}}
              ingress: [{from: [{podSelector: {matchLabels: {app: friend}}}], ports: [{port: 81}]}]
            """)
        try await cluster.patch(Pod.self, "x", "a", #"{"metadata":{"labels":{"app":"friend"}}}"#)
        #expect(try await eventually(within: .seconds(1)) { try a.canConnect(to: b.address, port: 81, timeout: 0.2) })

        // An invalid policy: Accepted=False with the field path, a Warning Event, and the valid ones keep working.
        try await cluster.create(
            BulwarkPolicy.self,
            """
            apiVersion: bulwark.dev/v1alpha1
            kind: BulwarkPolicy
            metadata: {name: broken, namespace: x}
            spec:
              podSelector: {}
              ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]
            """)
        #expect(
            try await eventually(within: .seconds(10)) {
                try await cluster.policy("x", "broken").status?.conditions?.first?.status == .false
            })
        let rejected = try #require(try await cluster.policy("x", "broken").status?.conditions?.first)
        #expect(rejected.reason == "Invalid")
        #expect(rejected.message.contains("spec.ingress[0].from[0].ipBlock.except[0]"))
        #expect(
            try await eventually(within: .seconds(5)) {
                let events = try await cluster.client.api(Event.self, namespace: "x").list().items
                return events.contains { $0.reason == "InvalidPolicy" && $0.regarding?.name == "broken" }
            })
        #expect(try a.canConnect(to: b.address, port: 80, timeout: 0.5))
        #expect(try !c.canConnect(to: b.address, port: 81, timeout: 0.3))

        // Deleting every policy that selects b lifts its isolation.
        for name in ["web", "broken"] { try await cluster.client.api(BulwarkPolicy.self, namespace: "x").delete(name) }
        try await cluster.client.api(NetworkPolicy.self, namespace: "x").delete("friends")
        #expect(
            try await eventually(within: .seconds(1)) {
                try c.canExchangeDatagram(with: b.address, port: 53, timeout: 0.2)
            })
    }
}
