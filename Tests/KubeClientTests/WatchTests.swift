import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import Testing

/// Collects the next `count` events of a watch, failing after `timeout`.
func nextEvents<T: KubeResource>(
    _ iterator: inout WatchStream<T>.AsyncIterator, _ count: Int
) async throws -> [WatchEvent<T>] {
    var events: [WatchEvent<T>] = []
    while events.count < count, let event = try await iterator.next() {
        events.append(event)
    }
    return events
}

/// A watch from the current list's resourceVersion, without bookmarks: it yields exactly the changes made next.
func watchFromNow<T: KubeResource>(_ api: Api<T>) async throws -> WatchStream<T>.AsyncIterator {
    let list = try await api.list()
    return api.watch(WatchOptions(resourceVersion: list.resourceVersion, allowBookmarks: false)).makeAsyncIterator()
}

func describe<T>(_ event: WatchEvent<T>) -> String {
    switch event {
    case .added(let o): "added \(o.metadata.name)"
    case .modified(let o): "modified \(o.metadata.name)"
    case .deleted(let o): "deleted \(o.metadata.name)"
    case .bookmark: "bookmark"
    }
}

@Suite(.timeLimit(.minutes(1))) struct WatchTests {
    @Test func watchDeliversChangesAfterTheListResourceVersion() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        _ = try await maps.create(TestConfigMap(name: "before"))
        var iterator = try await watchFromNow(maps)
        _ = try await maps.create(TestConfigMap(name: "x"))
        _ = try await maps.patch("x", .merge(json: Data(#"{"data":{"a":"1"}}"#.utf8)))
        try await maps.delete("x")
        let events = try await nextEvents(&iterator, 3)
        #expect(events.map(describe) == ["added x", "modified x", "deleted x"])
    }

    @Test func watchResumesFromTheLastResourceVersionWhenTheServerClosesTheStream() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        let list = try await maps.list()
        var iterator = maps.watch(WatchOptions(resourceVersion: list.resourceVersion, timeoutSeconds: 1))
            .makeAsyncIterator()
        _ = try await maps.create(TestConfigMap(name: "first"))
        #expect(try await nextEvents(&iterator, 1).map(describe) == ["added first"])
        // Wait (event-driven, not a fixed sleep) until the server has ended the 1 s watch request at least twice and
        // the client has come back each time. The client resumes on the cooperative pool: hack/test runs this suite
        // apart from tests that block the pool, which once held a reconnect for 30 s.
        func watchRequests() async throws -> [[String: Any]] {
            let requests = try await server.command("requests")["requests"] as? [[String: Any]] ?? []
            return requests.filter { ($0["query"] as? [String: String])?["watch"] == "true" }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await watchRequests().count < 3 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = try await maps.create(TestConfigMap(name: "second"))
        var seen: [String] = []
        while let event = try await iterator.next() {
            if case .bookmark = event { continue }
            seen.append(describe(event))
            break
        }
        #expect(seen == ["added second"])
        let watches = try await watchRequests()
        #expect(watches.count >= 3, "the stream reconnected after each server close")
        let versions = watches.compactMap { ($0["query"] as? [String: String])?["resourceVersion"] }
        #expect(versions.first == list.resourceVersion)
        #expect(Set(versions).count >= 2, "later watches resume from a newer resourceVersion")
    }

    @Test func bookmarksAdvanceTheResourceVersion() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        try await server.command("bookmarks", ["interval": 0.2])
        let maps = server.client().api(TestConfigMap.self)
        let list = try await maps.list()
        _ = try await server.client().api(TestPod.self).create(TestPod(name: "elsewhere"))
        var iterator = maps.watch(WatchOptions(resourceVersion: list.resourceVersion)).makeAsyncIterator()
        let event = try #require(try await iterator.next())
        guard case .bookmark(let version) = event else { Issue.record("expected a bookmark"); return }
        #expect(Int(version)! > Int(list.resourceVersion)!)
    }

    @Test func compactedResourceVersionEndsTheWatchWithGone() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        let list = try await maps.list()
        _ = try await maps.create(TestConfigMap(name: "after"))
        try await server.command("compact")
        var iterator = maps.watch(WatchOptions(resourceVersion: list.resourceVersion)).makeAsyncIterator()
        do {
            _ = try await iterator.next()
            Issue.record("the watch must fail")
        } catch KubeError.gone(let status) {
            #expect(status.message?.hasPrefix("too old resource version") == true)
        }
    }

    @Test func largeObjectsAndTinyChunksAreFramed() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        var iterator = try await watchFromNow(maps)
        let big = String(repeating: "0123456789", count: 500_000)
        _ = try await maps.create(TestConfigMap(name: "big", data: ["blob": big]))
        try await server.command("chunking", ["size": 7])
        _ = try await maps.create(TestConfigMap(name: "small", data: ["k": "v"]))
        let events = try await nextEvents(&iterator, 2)
        #expect(events.map(describe) == ["added big", "added small"])
        if case .added(let object) = events.first { #expect(object.data?["blob"]?.count == 5_000_000) }
    }

    @Test func cancellingTheConsumerClosesTheTransferPromptly() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        let list = try await maps.list()
        let consumer = Task {
            for try await _ in maps.watch(WatchOptions(resourceVersion: list.resourceVersion)) {}
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        consumer.cancel()
        _ = await consumer.result
        #expect(started.duration(to: .now) < .seconds(3))
    }
}
