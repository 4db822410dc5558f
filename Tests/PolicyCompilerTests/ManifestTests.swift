import DataplaneModel
import Foundation
import KubeModel
import Manifests
import PolicyCompiler
import Testing
import YAML

/// Loading manifests with located diagnostics (what `bulwark validate` prints), and every example under
/// `examples/` explained on the demo cluster (what `bulwark explain` prints).
@Suite struct ManifestTests {
    static let examples = CRDSchemaTests.repositoryRoot.appendingPathComponent("examples").path
    /// The standalone demo's own scenario (`hack/demo`) lives under `examples/demo*`; these tests are about the
    /// cluster examples beside it.
    static let demoFolders: Set<String> = ["demo", "demo-changes"]

    func load(_ text: String, file: String = "policy.yaml") throws -> ManifestSet {
        var set = ManifestSet()
        for document in try YAML.parseAll(text, file: file) where !document.value.isNull { set.add(document, file: file) }
        return set
    }

    @Test func everyProblemIsReportedWithFileLineColumnAndFieldPath() throws {
        let set = try load("""
            apiVersion: bulwark.dev/v1alpha1
            kind: BulwarkPolicy
            metadata:
              name: bad
              namespace: x
            spec:
              podSelector: {}
              mode: Sometimes
              egress:
                - to:
                    - ipBlock:
                        cidr: 10.0.0.0/16
                        except: [10.1.0.0/24]
                  ports:
                    - port: 0
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: np, namespace: x}
            spec:
              podSelector: {}
              ingress:
                - ports:
                    - port: [80]
            ---
            apiVersion: networking.k8s.io/v2
            kind: NetworkPolicy
            metadata: {name: future}
            ---
            - not an object
            """)
        #expect(set.diagnostics.map(\.description) == [
            "policy.yaml:8:3: spec.mode: unsupported mode \"Sometimes\": must be one of Enforce, Audit",
            "policy.yaml:13:22: spec.egress[0].to[0].ipBlock.except[0]: \"10.1.0.0/24\" must be strictly inside cidr \"10.0.0.0/16\"",
            "policy.yaml:15:11: spec.egress[0].ports[0].port: 0 must be between 1 and 65535, inclusive",
            "policy.yaml:24:11: spec.ingress[0].ports[0].port: expected string, found array",
            "policy.yaml:26:1: apiVersion: unsupported apiVersion \"networking.k8s.io/v2\" for NetworkPolicy",
            "policy.yaml:30:1: expected a Kubernetes object, found array",
        ])
        #expect(set.documentCount == 4)
        #expect(set.bulwarkPolicies.count == 1)
    }

    @Test func jsonFilesAndListsAreRead() throws {
        let set = try load("""
            {"apiVersion": "v1", "kind": "List", "items": [
              {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
              {"apiVersion": "bulwark.dev/v1alpha1", "kind": "BulwarkPolicy", "metadata": {"name": "p"},
               "spec": {"podSelector": {}, "ingress": [{"ports": [{"protocol": "ICMP", "port": 8}]}]}}]}
            """, file: "list.json")
        #expect(set.namespaces.map(\.metadata.name) == ["a"])
        #expect(set.diagnostics.map(\.description) == [
            "list.json:4:76: items[1].spec.ingress[0].ports[0].port: must not be set when protocol is ICMP",
        ])
    }

    @Test func theExamplesLoadWithoutProblems() {
        let set = ManifestSet.load([Self.examples], skipping: Self.demoFolders)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(set.bulwarkPolicies.count == 5)
        #expect(set.networkPolicies.count == 1)
        #expect(set.pods.count == 8)
    }

    struct Probe: Sendable, CustomTestStringConvertible {
        var example: String
        var from: String
        var to: String
        var port: UInt16?
        var proto: L4Protocol
        var verdict: Verdict
        var rule: String
        /// The side whose rule is checked: the source's egress or the destination's ingress.
        var decidedBy: Direction = .ingress
        var testDescription: String { "\(example): \(from) -> \(to) \(port.map(String.init) ?? "")/\(proto)" }
    }

    static let probes: [Probe] = [
        Probe(example: "default deny", from: "shop/db", to: "shop/api", port: 9000, proto: .tcp, verdict: .denied,
            rule: "no rule matched; isolated for ingress by BulwarkPolicy shop/allow-metrics-scraping, BulwarkPolicy shop/api-ingress, BulwarkPolicy shop/default-deny-ingress"),
        Probe(example: "allow from namespace", from: "monitoring/prometheus", to: "shop/api", port: 9090, proto: .tcp,
            verdict: .allowed, rule: "BulwarkPolicy shop/allow-metrics-scraping ingress[0]"),
        Probe(example: "named port", from: "shop/frontend", to: "shop/api", port: 9000, proto: .tcp, verdict: .allowed,
            rule: "BulwarkPolicy shop/api-ingress ingress[0]"),
        Probe(example: "port range", from: "payments/worker", to: "shop/api", port: 30050, proto: .tcp,
            verdict: .allowed, rule: "BulwarkPolicy shop/api-ingress ingress[1]"),
        Probe(example: "port range end", from: "payments/worker", to: "shop/api", port: 30101, proto: .tcp,
            verdict: .denied, rule: "no rule matched; isolated for ingress by BulwarkPolicy shop/allow-metrics-scraping, BulwarkPolicy shop/api-ingress, BulwarkPolicy shop/default-deny-ingress"),
        Probe(example: "egress to CIDR with except", from: "payments/gateway", to: "shop/api", port: 443,
            proto: .tcp, verdict: .denied, rule: "no rule matched; isolated for egress by BulwarkPolicy payments/gateway-egress", decidedBy: .egress),
        Probe(example: "egress to DNS by named port", from: "payments/gateway", to: "kube-system/coredns", port: 53,
            proto: .udp, verdict: .allowed, rule: "BulwarkPolicy payments/gateway-egress egress[1]", decidedBy: .egress),
        Probe(example: "audit mode", from: "shop/db", to: "payments/gateway", port: 50051, proto: .tcp,
            verdict: .audited, rule: "no rule matched; isolated for ingress by BulwarkPolicy payments/payments-lockdown"),
        Probe(example: "audit mode allows its own rules", from: "shop/api", to: "payments/gateway", port: 50051,
            proto: .tcp, verdict: .allowed, rule: "BulwarkPolicy payments/payments-lockdown ingress[0]"),
        Probe(example: "NetworkPolicy egress", from: "shop/frontend", to: "shop/db", port: 5432, proto: .tcp,
            verdict: .denied, rule: "no rule matched; isolated for egress by NetworkPolicy shop/frontend", decidedBy: .egress),
    ]

    @Test(arguments: probes)
    func eachExampleDecidesAsDocumented(_ probe: Probe) throws {
        let set = ManifestSet.load([Self.examples], skipping: Self.demoFolders)
        let key = { (text: String) in ObjectKey(namespace: String(text.split(separator: "/")[0]), name: String(text.split(separator: "/")[1])) }
        let explanation = try PolicyCompiler.explain(
            set.snapshot(node: nil), from: key(probe.from), to: key(probe.to), port: probe.port, proto: probe.proto)
        #expect(explanation.verdict == probe.verdict)
        let deciding = probe.decidedBy == .egress ? explanation.source : explanation.destination
        #expect(deciding.decision?.verdict == probe.verdict)
        #expect(deciding.rule == probe.rule)
    }

    @Test func aHostNetworkPodIsNotEnforced() throws {
        let set = ManifestSet.load([Self.examples], skipping: Self.demoFolders)
        let explanation = try PolicyCompiler.explain(
            set.snapshot(node: nil), from: ObjectKey(namespace: "monitoring", name: "node-exporter"),
            to: ObjectKey(namespace: "shop", name: "api"), port: 9000, proto: .tcp)
        #expect(explanation.source.decision == nil)
        #expect(explanation.source.skipped != nil)
        #expect(throws: ExplainError.unknownPod(ObjectKey(namespace: "shop", name: "nope"))) {
            try PolicyCompiler.explain(
                set.snapshot(node: nil), from: ObjectKey(namespace: "shop", name: "nope"),
                to: ObjectKey(namespace: "shop", name: "api"), port: 80, proto: .tcp)
        }
    }
}
