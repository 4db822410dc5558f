import Foundation
import Testing

@testable import Agent

@Test func readyzFailsUntilSyncedAndProgrammedThenSucceeds() throws {
    let health = HealthState()
    let server = try HTTPEndpointServer(address: "127.0.0.1:0") { health.respond(path: $0, metrics: nil) }
    server.start()
    defer { server.stop() }

    let (initial, initialBody) = try get("/readyz", port: server.port)
    #expect(initial == 503)
    #expect(initialBody.contains("initial list"))

    health.markSynced()
    health.recordProgramming(error: "map bulwark_policy is full")
    let (failed, failedBody) = try get("/readyz", port: server.port)
    #expect(failed == 503)
    #expect(failedBody.contains("map bulwark_policy is full"))

    health.recordProgramming(error: nil)
    #expect(try get("/readyz", port: server.port).0 == 200)
    #expect(try get("/healthz", port: server.port).0 == 200)
    #expect(try get("/nothing-here", port: server.port).0 == 404)
}

@Test func healthzFailsWhenTheReconcileLoopStalls() throws {
    let health = HealthState(stallLimit: .milliseconds(50))
    #expect(health.respond(path: "/healthz", metrics: nil).status == 200)
    Thread.sleep(forTimeInterval: 0.1)
    #expect(health.respond(path: "/healthz", metrics: nil).status == 503)
    health.heartbeat()
    #expect(health.respond(path: "/healthz", metrics: nil).status == 200)
}

@Test func metricsEndpointServesPrometheusTextWithRecordedValues() throws {
    let metrics = AgentMetrics()
    metrics.reconciled(duration: .milliseconds(3), succeeded: true)
    metrics.reconciled(duration: .milliseconds(7), succeeded: false)
    metrics.setProgrammedEntries(42)
    metrics.addVerdicts(policy: "x/deny-all", dropped: 5, audited: 0)
    metrics.watchRestarted(resource: "pods")
    let health = HealthState()
    let server = try HTTPEndpointServer(address: "127.0.0.1:0") { health.respond(path: $0, metrics: metrics) }
    server.start()
    defer { server.stop() }

    let (status, body) = try get("/metrics", port: server.port)
    #expect(status == 200)
    #expect(body.contains(#"bulwark_reconcile_total{result="success"} 1"#))
    #expect(body.contains(#"bulwark_reconcile_total{result="error"} 1"#))
    #expect(body.contains("bulwark_programmed_entries 42"))
    #expect(body.contains(#"bulwark_policy_drops_total{policy="x/deny-all"} 5"#))
    #expect(body.contains(#"bulwark_watch_restarts_total{resource="pods"} 1"#))
    #expect(body.contains("bulwark_reconcile_duration_seconds_bucket"))
}

@Test func bindingAnInvalidAddressNamesTheAddress() {
    #expect(throws: HTTPEndpointServer.Error.self) {
        try HTTPEndpointServer(address: "not-an-address") { _ in .init(status: 200, body: "") }
    }
    do {
        _ = try HTTPEndpointServer(address: "256.0.0.1:80") { _ in .init(status: 200, body: "") }
        Issue.record("expected an error")
    } catch {
        #expect("\(error)".contains("256.0.0.1:80"))
    }
}
