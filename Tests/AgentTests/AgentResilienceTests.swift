import BulwarkTesting
import Datapath
import Foundation
import KubeClient
import KubeModel
import Logging
import Synchronization
import Testing
import YAML

@testable import Agent

/// The built `bulwark` binary (the test bundle's sibling in `.build/debug`).
private let bulwarkBinary: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/bulwark").path
}()

/// A `bulwark agent` process against the test API server.
private final class AgentProcess {
    let process = Process()
    let port: UInt16

    init(kubeconfig: String, node: String, pinRoot: String, stateDirectory: String) throws {
        port = UInt16(20_000 + Int(getpid() % 20_000) + Int.random(in: 0..<5_000))
        process.executableURL = URL(fileURLWithPath: bulwarkBinary)
        process.arguments = [
            "agent", "--kubeconfig", kubeconfig, "--node-name", node, "--bpf-root", pinRoot, "--state-dir",
            stateDirectory, "--bind-address", "127.0.0.1:\(port)", "--agent-namespace", "bulwark-system",
            "--log-level", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    func metric(_ name: String) throws -> Double? {
        let (_, body) = try get("/metrics", port: port)
        return body.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
            Double($0.split(separator: " ")[1])
        }
    }

    var isReady: Bool { (try? get("/readyz", port: port).0) == 200 }

    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill() } }
}

/// Probes a→b on an allowed and a denied port in a loop on its own thread, counting wrong verdicts.
private final class ContinuousProbes: Sendable {
    private let wrong = Mutex<[String]>([])
    private let rounds = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)

    init(from a: NetNSPod, to b: NetNSPod, allowed: UInt16, denied: UInt16) {
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                if (try? a.canConnect(to: b.address, port: allowed, timeout: 1)) != true {
                    wrong.withLock { $0.append("\(allowed) denied") }
                }
                if (try? a.canConnect(to: b.address, port: denied, timeout: 0.2)) != false {
                    wrong.withLock { $0.append("\(denied) allowed") }
                }
                rounds.add(1, ordering: .relaxed)
            }
            finished.withLock { $0 = true }
        }
        thread.start()
    }

    /// Stops and returns (rounds, wrong verdicts).
    func stop() async -> (Int, [String]) {
        stopped.store(true, ordering: .relaxed)
        while !finished.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
        return (rounds.load(ordering: .relaxed), wrong.withLock { $0 })
    }
}

/// A cluster with pods a and b on node-a and a policy allowing TCP 80 (not 81) into b, plus what an agent needs;
/// everything is removed when the fixture goes away.
private final class ResilienceFixture {
    let server: TestAPIServer
    let a: NetNSPod
    let b: NetNSPod
    let client: KubeClient
    let kubeconfig: String
    let pinRoot = uniquePinRoot()
    let state: String

    private init(server: TestAPIServer, a: NetNSPod, b: NetNSPod, client: KubeClient) throws {
        (self.server, self.a, self.b, self.client) = (server, a, b, client)
        kubeconfig = try server.writeKubeconfig(auth: .clientCertificate, name: "agent")
        state = try temporaryFolder()
    }

    static func make() async throws -> ResilienceFixture {
        let server = try await TestAPIServer.start()
        let a = try NetNSPod()
        let b = try NetNSPod()
        try b.serve(tcp: [80, 81])
        let cluster = TestCluster(
            client: KubeClient(config: try ClientConfig.load(kubeconfig: try server.writeKubeconfig(auth: .token))))
        try await cluster.create(Namespace.self, "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}")
        try await cluster.createPod("x", "a", app: "a", node: "node-a", address: a.address)
        try await cluster.createPod("x", "b", app: "b", node: "node-a", address: b.address)
        try await cluster.create(
            BulwarkPolicy.self,
            """
            apiVersion: bulwark.dev/v1alpha1
            kind: BulwarkPolicy
            metadata: {name: web, namespace: x}
            spec:
              podSelector: {matchLabels: {app: b}}
              ingress: [{from: [{podSelector: {}}], ports: [{protocol: TCP, port: 80}]}]
            """)
        return try ResilienceFixture(server: server, a: a, b: b, client: cluster.client)
    }

    deinit {
        try? Datapath.removePins(at: pinRoot)
        try? FileManager.default.removeItem(atPath: state)
        server.close()
    }
}

@Suite(.enabled(if: getuid() == 0, "loads eBPF and creates network namespaces: needs root"))
struct AgentResilienceTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: bulwarkBinary), "needs the built bulwark binary"))
    func killingTheAgentKeepsEnforcementAndARestartReadoptsTheMaps() async throws {
        let f = try await ResilienceFixture.make()
        let (a, b, client, kubeconfig, pinRoot, state) = (f.a, f.b, f.client, f.kubeconfig, f.pinRoot, f.state)

        let first = try AgentProcess(kubeconfig: kubeconfig, node: "node-a", pinRoot: pinRoot, stateDirectory: state)
        #expect(await eventually(within: .seconds(20)) { first.isReady })
        let programmedOnce = try #require(try first.metric("bulwark_datapath_map_operations_total"))
        #expect(programmedOnce > 0)

        let probes = ContinuousProbes(from: a, to: b, allowed: 80, denied: 81)
        try await Task.sleep(for: .seconds(1))
        first.kill()
        try await Task.sleep(for: .seconds(2))  // enforcement with no agent at all
        let second = try AgentProcess(kubeconfig: kubeconfig, node: "node-a", pinRoot: pinRoot, stateDirectory: state)
        #expect(await eventually(within: .seconds(20)) { second.isReady })
        try await Task.sleep(for: .seconds(1))
        let (rounds, wrong) = await probes.stop()
        #expect(rounds > 3)
        #expect(wrong.isEmpty, "wrong verdicts around the restart: \(wrong)")
        // Re-adopted: the restarted agent found the maps already right and wrote nothing.
        #expect(try second.metric("bulwark_datapath_map_operations_total") == 0)
        // Map fill ratios are read from the kernel at scrape time: two local endpoints are programmed.
        #expect(try second.metric(#"bulwark_map_fill_ratio{map="bulwark_endpoints"}"#) == 2.0 / 4096)
        // The restarted agent's first program reconciled every bucket: both selectors found a way.
        #expect(try second.metric(#"bulwark_copy_table_overflow_entries{table="selectors"}"#) == 0)
        let status = try await client.api(BulwarkPolicy.self, namespace: "x").get("web").status
        #expect(status?.nodes?.first?.observedGeneration == 1)
        #expect(status?.nodes?.first?.error == nil)
        second.kill()
    }

    @Test func anAPIServerOutageKeepsEnforcementAndTheAgentCatchesUp() async throws {
        let f = try await ResilienceFixture.make()
        let (server, a, b, client) = (f.server, f.a, f.b, f.client)
        let (kubeconfig, pinRoot, state) = (f.kubeconfig, f.pinRoot, f.state)
        var logger = Logger(label: "test")
        logger.logLevel = .critical  // the outage makes every watch log its retries
        // The agent promises to retry within its maximum reconnect backoff once the server is back (the backoff's
        // jitter never stretches a delay past it); a short one keeps the test short, as `--max-reconnect-backoff`
        // would for a user.
        let maxReconnectBackoff = Duration.seconds(5)
        let agent = ClusterAgent(
            options: .init(
                nodeName: "node-a", kubeconfig: kubeconfig, pinRoot: pinRoot, bindAddress: nil, stateDirectory: state,
                agentNamespace: "bulwark-system", maxReconnectBackoff: maxReconnectBackoff),
            logger: logger)
        let run = Task { try await agent.run() }
        defer { run.cancel() }
        #expect(
            try await eventually(within: .seconds(20)) {
                try await client.api(BulwarkPolicy.self, namespace: "x").get("web").status?.nodes?.first != nil
            })

        // The agent stops hearing events, the policy changes (81 allowed too), then the server goes away for 30 s.
        try await server.command("hold", ["hold": true])
        let ports = #"[{"protocol":"TCP","port":80},{"protocol":"TCP","port":81}]"#
        let patch = #"{"spec":{"ingress":[{"from":[{"podSelector":{}}],"ports":"# + ports + "}]}}"
        _ = try await client.api(BulwarkPolicy.self, namespace: "x").patch("web", .merge(json: Data(patch.utf8)))
        let probes = ContinuousProbes(from: a, to: b, allowed: 80, denied: 81)
        try await server.command("down", ["seconds": 30])
        try await server.command("hold", ["hold": false])
        try await Task.sleep(for: .seconds(29))
        let (rounds, wrong) = await probes.stop()
        #expect(rounds > 10)
        #expect(wrong.isEmpty, "enforcement changed while the API server was down: \(wrong)")

        // Back (1 s from now): the agent retries within its maximum backoff, resumes its watches and applies what
        // changed meanwhile. The margin covers the server's restart, the resumed watch and one reconcile.
        let caughtUp = try await eventually(within: .seconds(1) + maxReconnectBackoff + .seconds(10)) {
            try a.canConnect(to: b.address, port: 81, timeout: 0.3)
        }
        #expect(caughtUp, "port 81 not allowed within the maximum reconnect backoff after the server came back")
    }
}
