import BulwarkTesting
import Datapath
import Foundation
import Logging
import Synchronization
import Testing
import YAML

@testable import Agent

/// Standalone mode end to end: a folder of YAML, netns pods, the real programs, real probes.
@Suite(.enabled(if: getuid() == 0, "loads eBPF and creates network namespaces: needs root"))
struct StandaloneAgentTests {
    private static func pod(_ name: String, _ namespace: String, _ pod: NetNSPod) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
          namespace: \(namespace)
          labels: {app: \(name)}
          annotations: {bulwark.dev/interface: \(pod.hostInterface)}
        status:
          phase: Running
          podIP: \(pod.address)
        ---

        """
    }

    private static func policy(_ name: String, allowFromNamespaces: [String], port: Int) -> String {
        let peers = allowFromNamespaces.map {
            "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: \($0)}}\n"
                + "          podSelector: {}"
        }.joined(separator: "\n")
        return """
            apiVersion: bulwark.dev/v1alpha1
            kind: BulwarkPolicy
            metadata: {name: \(name), namespace: x}
            spec:
              podSelector: {matchLabels: {app: b}}
              ingress:
                - from:
            \(peers)
                  ports: [{protocol: TCP, port: \(port)}]

            """
    }

    @Test func folderPoliciesAreEnforcedFollowEditsAndReportStatus() async throws {
        let a = try NetNSPod()
        let b = try NetNSPod()
        let c = try NetNSPod()
        try b.serve(tcp: [80, 81], udp: [53])
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pinRoot = uniquePinRoot()
        defer { try? Datapath.removePins(at: pinRoot) }

        let cluster =
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n"
            + "apiVersion: v1\nkind: Namespace\nmetadata: {name: z}\n---\n"
            + Self.pod("a", "x", a) + Self.pod("b", "x", b) + Self.pod("c", "z", c)
        try cluster.write(toFile: folder + "/cluster.yaml", atomically: true, encoding: .utf8)
        try Self.policy("allow-x", allowFromNamespaces: ["x"], port: 80)
            .write(toFile: folder + "/policy.yaml", atomically: true, encoding: .utf8)

        let stateFolder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: stateFolder) }
        let lines = Mutex<[String]>([])
        let options = StandaloneAgent.Options(
            directory: folder, pinRoot: pinRoot, bindAddress: nil, stateDirectory: stateFolder)
        let agent = Task {
            try await StandaloneAgent(options: options, logger: Logger(label: "test")) { line in
                lines.withLock { $0.append(line) }
            }.run()
        }
        defer { agent.cancel() }
        let statusFile = folder + "/status/bulwarkpolicy.x.allow-x.yaml"
        #expect(await eventually(within: .seconds(10)) { FileManager.default.fileExists(atPath: statusFile) })

        // Same namespace on the allowed port passes; another port, another namespace and UDP are denied.
        #expect(try a.canConnect(to: b.address, port: 80))
        #expect(try !a.canConnect(to: b.address, port: 81, timeout: 0.3))
        #expect(try !c.canConnect(to: b.address, port: 80, timeout: 0.3))
        #expect(try !a.canExchangeDatagram(with: b.address, port: 53, timeout: 0.3))
        // Pod c is not selected by any policy: it accepts everything.
        let status = try #require(try YAML.parseAll(contentsOf: statusFile).first?.value["status"])
        #expect(status["conditions"]?[0]?["type"]?.stringValue == "Accepted")
        #expect(status["conditions"]?[0]?["status"]?.stringValue == "True")
        #expect(status["conditions"]?[1]?["status"]?.stringValue == "True")
        #expect(status["nodes"]?[0]?["selectedPods"]?.intValue == 1)

        // An edit that admits namespace z is enforced within a second (not "y": YAML reads a plain y as true).
        try Self.policy("allow-x", allowFromNamespaces: ["x", "z"], port: 80)
            .write(toFile: folder + "/policy.yaml", atomically: true, encoding: .utf8)
        #expect(try await eventually(within: .seconds(1)) { try c.canConnect(to: b.address, port: 80, timeout: 0.2) })
        #expect(try !a.canConnect(to: b.address, port: 81, timeout: 0.3))

        // An invalid policy is rejected alone, with the field path; the valid one keeps enforcing.
        try """
        apiVersion: bulwark.dev/v1alpha1
        kind: BulwarkPolicy
        metadata: {name: broken, namespace: x}
        spec:
          podSelector: {}
          ingress:
            - ports: [{protocol: TCP, port: 70000}]
        """.write(toFile: folder + "/broken.yaml", atomically: true, encoding: .utf8)
        let brokenStatus = folder + "/status/bulwarkpolicy.x.broken.yaml"
        #expect(await eventually(within: .seconds(2)) { FileManager.default.fileExists(atPath: brokenStatus) })
        let broken = try #require(try YAML.parseAll(contentsOf: brokenStatus).first?.value["status"])
        #expect(broken["conditions"]?[0]?["status"]?.stringValue == "False")
        #expect(broken["conditions"]?[0]?["message"]?.stringValue?.contains("spec.ingress[0].ports[0].port") == true)
        #expect(lines.withLock { $0.contains { $0.hasPrefix("error: ") && $0.contains("broken.yaml") } })
        #expect(try !a.canConnect(to: b.address, port: 81, timeout: 0.3))
        #expect(try a.canConnect(to: b.address, port: 80))

        // Deleting every policy selecting b lifts its isolation.
        try FileManager.default.removeItem(atPath: folder + "/policy.yaml")
        try FileManager.default.removeItem(atPath: folder + "/broken.yaml")
        #expect(try await eventually(within: .seconds(1)) { try a.canConnect(to: b.address, port: 81, timeout: 0.2) })
        #expect(await eventually(within: .seconds(1)) { !FileManager.default.fileExists(atPath: statusFile) })
        // The names file lets `bulwark observe` say which pod an interface belongs to.
        let names = NodeNames.read(from: stateFolder + "/names.json")
        #expect(names.endpoints[b.ifindex] == "x/b")
    }
}
