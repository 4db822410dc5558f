import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct WatcherTests {
    @Test func watcherListsInPagesThenStreamsChanges() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        for name in ["a", "b", "c"] { _ = try await maps.create(TestConfigMap(name: name)) }
        var events = Watcher(api: maps, config: WatcherConfig(pageSize: 2, backoff: quickBackoff)).makeAsyncIterator()
        var seen: [String] = []
        for _ in 0..<5 {
            switch await events.next() {
            case .initStart: seen.append("initStart")
            case .initObject(let object): seen.append("init \(object.metadata.name)")
            case .initDone: seen.append("initDone")
            default: seen.append("unexpected")
            }
        }
        #expect(seen == ["initStart", "init a", "init b", "init c", "initDone"])
        _ = try await maps.create(TestConfigMap(name: "d"))
        try await maps.delete("a")
        guard case .applied(let added) = await events.next() else { Issue.record("expected applied"); return }
        #expect(added.metadata.name == "d")
        guard case .deleted(let deleted) = await events.next() else { Issue.record("expected deleted"); return }
        #expect(deleted.metadata.name == "a")
        let pages = (try await server.command("requests")["requests"] as? [[String: Any]] ?? [])
            .filter { ($0["query"] as? [String: String])?["limit"] == "2" }
        #expect(pages.count == 2)
    }

    @Test func theTransformShapesEveryCachedObjectFromTheListAndTheWatch() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        _ = try await maps.create(TestConfigMap(name: "listed", data: ["keep": "1", "drop": "2"]))
        let store = Store<TestConfigMap>()
        let (task, log) = startReflector(maps, store: store) { map in
            var map = map
            map.data = map.data?.filter { $0.key == "keep" }
            return map
        }
        defer { task.cancel() }
        #expect(await log.wait { $0.contains("ready") })
        _ = try await maps.create(TestConfigMap(name: "watched", data: ["keep": "3", "drop": "4"]))
        #expect(await log.wait { $0.contains("applied watched") })
        #expect(store.list().sorted { $0.metadata.name < $1.metadata.name }.map(\.data) == [["keep": "1"], ["keep": "3"]])
    }

    @Test func goneMidStreamRelistsAndReportsObjectsDeletedDuringTheGap() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        for name in ["stays", "goes"] { _ = try await maps.create(TestConfigMap(name: name)) }
        let store = Store<TestConfigMap>()
        let (task, log) = startReflector(maps, store: store)
        defer { task.cancel() }
        #expect(await log.wait { $0.contains("ready") })

        try await server.command("hold", ["hold": true])      // the watch sees nothing from here on
        try await maps.delete("goes")
        _ = try await maps.create(TestConfigMap(name: "new"))
        try await server.command("compact")                    // its resourceVersion is now too old: 410
        try await server.command("hold", ["hold": false])

        #expect(await log.wait { $0.filter { $0 == "ready" }.count == 2 })
        let afterRelist = Array(log.all.drop { $0 != "ready" }.dropFirst())
        #expect(Set(afterRelist) == ["deleted goes", "applied new", "ready"])
        #expect(store.list().map(\.metadata.name).sorted() == ["new", "stays"])
    }

    @Test func watcherRecoversAfterTheServerIsDownForTenSeconds() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        let store = Store<TestConfigMap>()
        let (task, log) = startReflector(maps, store: store)
        defer { task.cancel() }
        #expect(await log.wait { $0.contains("ready") })

        try await server.command("down", ["seconds": 10])
        try await Task.sleep(for: .seconds(10.5))
        _ = try await maps.create(TestConfigMap(name: "after-outage"))
        #expect(await log.wait(timeout: .seconds(15)) { $0.contains("applied after-outage") })
        #expect(store.get(ObjectKey(namespace: "default", name: "after-outage")) != nil)
    }

    @Test func watcherResumesAcrossServerClosedWatchRequests() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        let store = Store<TestConfigMap>()
        let (task, log) = startReflector(maps, store: store, config: WatcherConfig(watchTimeoutSeconds: 1))
        defer { task.cancel() }
        #expect(await log.wait { $0.contains("ready") })
        try await Task.sleep(for: .seconds(2.2))
        _ = try await maps.create(TestConfigMap(name: "late"))
        #expect(await log.wait { $0.contains("applied late") })
        #expect(log.all.filter { $0 == "ready" }.count == 1, "closing a watch request must not cause a relist")
    }
}
