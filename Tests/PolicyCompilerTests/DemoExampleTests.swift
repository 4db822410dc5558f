import DataplaneModel
import KubeModel
import Manifests
import PolicyCompiler
import Testing

/// `examples/demo/` is what `hack/demo` enforces on real network namespaces; these are the verdicts its table shows,
/// decided offline, before and after the live change in `examples/demo-changes/`.
struct DemoExampleTests {
    static let demo = CRDSchemaTests.repositoryRoot.appendingPathComponent("examples/demo").path
    static let change = CRDSchemaTests.repositoryRoot.appendingPathComponent("examples/demo-changes").path

    private static func verdict(_ paths: [String], _ from: String, _ to: String, _ port: UInt16?, _ proto: L4Protocol)
        throws -> Verdict
    {
        let set = ManifestSet.load(paths)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let key = { (text: String) in
            ObjectKey(namespace: String(text.split(separator: "/")[0]), name: String(text.split(separator: "/")[1]))
        }
        return try PolicyCompiler.explain(
            set.snapshot(node: nil), from: key(from), to: key(to), port: port, proto: proto
        ).verdict
    }

    @Test(arguments: [
        ("shop/frontend", "shop/backend", UInt16(80), L4Protocol.tcp, Verdict.allowed),  // named port "http"
        ("shop/frontend", "shop/backend", 5353, .udp, .denied),  // default deny in shop
        ("shop/backend", "shop/db", 5432, .tcp, .allowed),
        ("shop/frontend", "shop/db", 5432, .tcp, .denied),
        ("ops/monitor", "shop/frontend", 80, .tcp, .allowed),  // frontend is public inside the cluster
        ("guest/visitor", "shop/frontend", 80, .tcp, .denied),  // Deny beats the frontend's Allow
        ("ops/monitor", "guest/visitor", 5353, .udp, .audited),  // Audit: would be denied, passes, reported
        ("guest/visitor", "ops/monitor", 80, .tcp, .allowed),  // the Audit policy isolates egress only
        ("ops/monitor", "shop/db", 5432, .tcp, .denied),  // until the live change
    ])
    func theDemoTableBeforeTheChange(from: String, to: String, port: UInt16, proto: L4Protocol, expected: Verdict)
        throws
    {
        #expect(try Self.verdict([Self.demo], from, to, port, proto) == expected)
    }

    @Test func theLiveChangeLetsTheMonitorReachTheDatabaseOnly() throws {
        let after = [Self.demo, Self.change]
        // It passes; the monitor's Audit-mode egress policy (shop on 80 only) reports it.
        #expect(try Self.verdict(after, "ops/monitor", "shop/db", 5432, .tcp) == .audited)
        #expect(try Self.verdict(after, "ops/monitor", "shop/db", 80, .tcp) == .denied)
        #expect(try Self.verdict(after, "guest/visitor", "shop/db", 5432, .tcp) == .denied)
    }
}
