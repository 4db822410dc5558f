import Foundation
import Testing

@testable import Agent

/// Sends one raw HTTP GET to the server and returns (status code, body).
private func get(_ path: String, port: UInt16) throws -> (Int, String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(connected == 0)
    let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response += chunk[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    let statusLine = try #require(text.split(separator: "\r\n").first)
    let code = try #require(Int(statusLine.split(separator: " ")[1]))
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (code, body)
}

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
    #expect(throws: HTTPEndpointServer.Error.self) { try HTTPEndpointServer(address: "not-an-address") { _ in .init(status: 200, body: "") } }
    do {
        _ = try HTTPEndpointServer(address: "256.0.0.1:80") { _ in .init(status: 200, body: "") }
        Issue.record("expected an error")
    } catch {
        #expect("\(error)".contains("256.0.0.1:80"))
    }
}
