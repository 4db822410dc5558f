import DataplaneModel
import KubeModel
import PolicyCompiler
import Testing
import YAML

@testable import Agent

/// Egress through Service ClusterIPs is decided by the ready backends (pure: compile, add services, decide).
struct ServiceEgressTests {
    private static func decode<T: Decodable>(_ type: T.Type, _ yaml: String) throws -> T {
        try JSONValueDecoder().decode(T.self, from: try #require(try YAML.parseAll(yaml).first?.value))
    }

    private static func pod(_ name: String, _ address: String) throws -> Pod {
        try decode(
            Pod.self,
            """
            metadata: {name: \(name), namespace: x, labels: {app: \(name)}}
            spec: {containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
            status: {phase: Running, podIP: \(address)}
            """)
    }

    private static func service(_ name: String, vip: String, targetPort: String = "8080") throws -> Service {
        try decode(
            Service.self,
            """
            metadata: {name: \(name), namespace: x}
            spec: {clusterIP: \(vip), ports: [{name: http, protocol: TCP, port: 80, targetPort: \(targetPort)}]}
            """)
    }

    private static func slice(_ service: String, _ addresses: [String], ready: Bool = true) throws -> EndpointSlice {
        try decode(
            EndpointSlice.self,
            """
            metadata: {name: \(service)-1, namespace: x, labels: {kubernetes.io/service-name: \(service)}}
            addressType: IPv4
            endpoints: [{addresses: [\(addresses.joined(separator: ", "))], conditions: {ready: \(ready)}}]
            ports: [{name: http, protocol: TCP, port: 8080}]
            """)
    }

    /// Client `a` may only call pods labelled app=b on 8080 (plus a Deny towards app=d); b, c and d serve 8080.
    private static func state(services: [Service], slices: [EndpointSlice]) throws -> DesiredState {
        let policy = try decode(
            BulwarkPolicy.self,
            """
            metadata: {name: client, namespace: x}
            spec:
              podSelector: {matchLabels: {app: a}}
              policyTypes: [Egress]
              egress:
                - to: [{podSelector: {matchLabels: {app: b}}}]
                  ports: [{protocol: TCP, port: 8080}]
                - action: Deny
                  to: [{podSelector: {matchLabels: {app: d}}}]
            """)
        let snapshot = ClusterSnapshot(
            node: nil,
            pods: [
                try pod("a", "10.1.0.1"), try pod("b", "10.1.0.2"), try pod("c", "10.1.0.3"), try pod("d", "10.1.0.4"),
            ],
            namespaces: [Namespace(metadata: ObjectMeta(name: "x"))], networkPolicies: [], bulwarkPolicies: [policy])
        var desired = PolicyCompiler.compile(snapshot).desired
        ServiceEgress.add(services: services, slices: slices, to: &desired)
        return desired
    }

    private static func verdict(_ desired: DesiredState, to vip: String, port: UInt16 = 80) throws -> Verdict {
        let client = try #require(desired.endpoints.first { $0.pod == "x/a" })
        return desired.decide(client, .egress, remote: try #require(IPAddress(vip)), proto: .tcp, port: port).verdict
    }

    @Test func aServiceWhoseEveryBackendIsAllowedIsAllowedOnItsServicePort() throws {
        let desired = try Self.state(
            services: [try Self.service("svc-b", vip: "10.96.0.10")], slices: [try Self.slice("svc-b", ["10.1.0.2"])])
        #expect(desired.identity(of: IPAddress("10.96.0.10")!).rawValue >= 0x8000_0000)
        #expect(try Self.verdict(desired, to: "10.96.0.10") == .allowed)
        #expect(try Self.verdict(desired, to: "10.96.0.10", port: 8080) == .denied)  // the VIP serves 80 only
    }

    @Test func oneBackendThePolicyDoesNotAllowDeniesTheService() throws {
        let desired = try Self.state(
            services: [try Self.service("svc-bc", vip: "10.96.0.11")],
            slices: [try Self.slice("svc-bc", ["10.1.0.2", "10.1.0.3"])])
        #expect(try Self.verdict(desired, to: "10.96.0.11") == .denied)
    }

    @Test func notReadyBackendsAreIgnoredAndNamedTargetPortsResolveThroughTheSlice() throws {
        let desired = try Self.state(
            services: [try Self.service("svc-b", vip: "10.96.0.12", targetPort: "web")],
            slices: [try Self.slice("svc-b", ["10.1.0.2"]), try Self.slice("svc-b", ["10.1.0.3"], ready: false)])
        #expect(try Self.verdict(desired, to: "10.96.0.12") == .allowed)
    }

    @Test func aDenyRuleOnABackendIsAnExplicitDenyAndHeadlessServicesAreSkipped() throws {
        let desired = try Self.state(
            services: [try Self.service("svc-d", vip: "10.96.0.13"), try Self.service("headless", vip: "None")],
            slices: [try Self.slice("svc-d", ["10.1.0.4"])])
        let client = try #require(desired.endpoints.first { $0.pod == "x/a" })
        let decision = desired.decide(client, .egress, remote: IPAddress("10.96.0.13")!, proto: .tcp, port: 80)
        #expect(decision.verdict == .denied)
        #expect(decision.rule != RuleID.defaultDeny)
        #expect(!desired.ipcache.contains { $0.prefix.description.hasPrefix("None") })
    }

    @Test func endpointsNotIsolatedForEgressGetNoServiceEntries() throws {
        let desired = try Self.state(
            services: [try Self.service("svc-b", vip: "10.96.0.10")], slices: [try Self.slice("svc-b", ["10.1.0.2"])])
        let backend = try #require(desired.endpoints.first { $0.pod == "x/b" })
        #expect(backend.egress.entries.isEmpty)
    }
}
