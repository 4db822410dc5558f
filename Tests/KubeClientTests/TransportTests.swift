import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import Testing

@Suite struct TransportTests {
    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        for _ in 0..<5 { _ = try await maps.list() }
        let requests = try await server.command("requests")["requests"] as? [[String: Any]] ?? []
        let ports = Set(requests.compactMap { $0["peerPort"] as? Int })
        #expect(requests.count == 5)
        #expect(ports.count == 1, "keep-alive connection reused, got ports \(ports)")
    }

    /// A watch may be silent for minutes; a peer that vanished without closing is found by TCP keepalive probes,
    /// which start after 15 s of silence (curl's default, 60 s, plus 9 probes a minute apart, outlasted the watch).
    @Test func aQuietWatchConnectionIsProbedByTCPKeepaliveWithinFifteenSeconds() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        var iterator = try await watchFromNow(maps)
        _ = try await maps.create(TestConfigMap(name: "x"))
        _ = try await nextEvents(&iterator, 1)
        let port = try #require(URL(string: server.url)?.port)
        // The client's end of each connection to the server, with its timer: "timer:(keepalive,14sec,0)".
        let sockets = try NetNSPod.sh("ss", "-tnoH", "state", "established", "( dport = :\(port) )")
        let timers = sockets.split(separator: "timer:(keepalive,").dropFirst().map { $0.prefix { $0 != "," } }
        #expect(!timers.isEmpty, "no keepalive timer on the watch connection: \(sockets)")
        for timer in timers {
            let seconds = timer.hasSuffix("ms") ? (Double(timer.dropLast(2)) ?? .infinity) / 1000
                : timer.hasSuffix("sec") ? Double(timer.dropLast(3)) ?? .infinity : .infinity
            #expect(seconds <= 15, "keepalive timer \(timer)")
        }
    }

    @Test func clientSideRateLimitSpacesRequestsAfterTheBurst() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = KubeClient(config: ClientConfig(
            server: server.url, certificateAuthority: server.certificateAuthority, credentials: .token(server.token),
            qps: 5, burst: 2))
        let maps = client.api(TestConfigMap.self)
        let start = ContinuousClock.now
        for _ in 0..<6 { _ = try await maps.list() }
        // Two requests ride the burst; the other four wait 200 ms each.
        #expect(start.duration(to: .now) >= .milliseconds(750))
    }

    @Test func requestsCarryTheMediaTypeOfEachPatchKind() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        _ = try await maps.create(TestConfigMap(name: "m"))
        _ = try await maps.patch("m", .merge(json: Data(#"{"data":{"a":"1"}}"#.utf8)))
        _ = try await maps.patch("m", .json([.add("/data/b", "2")]))
        _ = try await maps.apply("m", configuration: TestConfigMap(name: "m", data: ["c": "3"]), fieldManager: "me",
                                 force: true)
        let requests = try await server.command("requests")["requests"] as? [[String: Any]] ?? []
        let patches = requests.filter { $0["method"] as? String == "PATCH" }
        #expect(patches.map { $0["contentType"] as? String } == [
            "application/merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml",
        ])
        let applyQuery = patches.last?["query"] as? [String: String]
        #expect(applyQuery == ["fieldManager": "me", "force": "true"])
        #expect(try await maps.get("m").data == ["a": "1", "b": "2", "c": "3"])
    }
}
