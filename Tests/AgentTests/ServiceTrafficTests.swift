import BulwarkTesting
import Datapath
import Foundation
import Logging
import Testing

@testable import Agent

/// Egress through a ClusterIP with real traffic: kube-proxy is emulated by a DNAT rule per Service in a nat
/// prerouting chain of the host (where kube-proxy's KUBE-SERVICES jump sits), so the pod's TC program sees the VIP and
/// the backend's sees the real addresses, as in a cluster.
@Suite(.enabled(if: getuid() == 0, "loads eBPF, creates network namespaces and NAT rules: needs root"))
struct ServiceTrafficTests {
    /// DNAT rules VIP:80 -> backend:8080 in an nftables table of this test's own, deleted with everything in it when
    /// this goes away (also when the test fails): the host keeps no nat chain, whose hooks would leave connection
    /// tracking on for all its traffic (and skew the datapath benchmarks run after the tests).
    private final class ServiceNAT {
        let table = "bwsvc\(getpid())"

        init(_ services: [(vip: String, backend: String)]) throws {
            var script = "table ip \(table) {\n chain prerouting {\n  type nat hook prerouting priority dstnat;\n"
            for service in services {
                script += "  ip daddr \(service.vip) tcp dport 80 dnat to \(service.backend):8080\n"
            }
            script += " }\n}\n"
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(table).nft").path
            try script.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            try NetNSPod.sh("nft", "-f", file)
        }

        deinit { _ = try? NetNSPod.sh("nft", "delete", "table", "ip", table) }
    }

    @Test func aClusterIPIsReachableExactlyWhenEgressPolicyAllowsItsBackends() async throws {
        let a = try NetNSPod()
        let b = try NetNSPod()
        let c = try NetNSPod()
        try b.serve(tcp: [8080])
        try c.serve(tcp: [8080])
        // Unique VIPs per run in 198.18.0.0/15 (benchmarking range: never routed anywhere else).
        let vipB = "198.18.\(getpid() % 250).10"
        let vipC = "198.18.\(getpid() % 250).11"
        let nat = try ServiceNAT([(vipB, b.address), (vipC, c.address)])
        defer { _ = nat }

        let folder = try temporaryFolder()
        let state = try temporaryFolder()
        let pinRoot = uniquePinRoot()
        defer {
            try? Datapath.removePins(at: pinRoot)
            try? FileManager.default.removeItem(atPath: folder)
            try? FileManager.default.removeItem(atPath: state)
        }
        var manifests = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"
        for (name, pod) in [("a", a), ("b", b), ("c", c)] {
            manifests += """
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: \(name)
                  namespace: x
                  labels: {app: \(name)}
                  annotations: {bulwark.dev/interface: \(pod.hostInterface)}
                status: {phase: Running, podIP: \(pod.address)}

                """
        }
        for (name, vip, pod) in [("svc-b", vipB, b), ("svc-c", vipC, c)] {
            manifests += """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: \(name), namespace: x}
                spec: {clusterIP: \(vip), ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]}
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: \(name)-1, namespace: x, labels: {kubernetes.io/service-name: \(name)}}
                addressType: IPv4
                endpoints: [{addresses: ["\(pod.address)"], conditions: {ready: true}}]
                ports: [{name: http, protocol: TCP, port: 8080}]

                """
        }
        manifests += """
            ---
            apiVersion: bulwark.dev/v1alpha1
            kind: BulwarkPolicy
            metadata: {name: client, namespace: x}
            spec:
              podSelector: {matchLabels: {app: a}}
              policyTypes: [Egress]
              egress: [{to: [{podSelector: {matchLabels: {app: b}}}], ports: [{protocol: TCP, port: 8080}]}]

            """
        try manifests.write(toFile: folder + "/cluster.yaml", atomically: true, encoding: .utf8)

        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let agent = Task {
            try await StandaloneAgent(
                options: .init(directory: folder, pinRoot: pinRoot, bindAddress: nil, stateDirectory: state),
                logger: logger, output: { _ in }
            ).run()
        }
        defer { agent.cancel() }
        #expect(
            await eventually(within: .seconds(15)) {
                FileManager.default.fileExists(atPath: folder + "/status/bulwarkpolicy.x.client.yaml")
            })

        // Allowed backend through its VIP (replies pass via the conntrack entry of the VIP connection) ...
        #expect(try a.canConnect(to: vipB, port: 80, timeout: 1))
        // ... the other Service's backend is not allowed, directly or through its VIP.
        #expect(try !a.canConnect(to: vipC, port: 80, timeout: 0.3))
        #expect(try !a.canConnect(to: c.address, port: 8080, timeout: 0.3))
        // Unisolated pods reach both Services.
        #expect(try b.canConnect(to: vipC, port: 80, timeout: 1))
    }
}
