import BulwarkTesting
import KubeModel
import KubeRuntime
import Testing

@Suite struct StoreTests {
    private func map(_ name: String, _ namespace: String = "default", rv: String = "1",
                     labels: [String: String]? = nil) -> TestConfigMap {
        var object = TestConfigMap(name: name, namespace: namespace, labels: labels)
        object.metadata.resourceVersion = rv
        return object
    }

    @Test func storeIsReadyOnlyAfterTheInitialListIsDone() {
        let store = Store<TestConfigMap>()
        store.apply(.initStart)
        store.apply(.initObject(map("a")))
        #expect(!store.isReady)
        #expect(store.count == 0, "a half-filled list is never visible")
        store.apply(.initDone)
        #expect(store.isReady)
        #expect(store.count == 1)
    }

    @Test func relistSwapReportsVanishedObjectsAsDeleted() {
        let store = Store<TestConfigMap>()
        let initial: [WatcherEvent<TestConfigMap>] = [
            .initStart, .initObject(map("a")), .initObject(map("b")), .initDone,
        ]
        for event in initial {
            store.apply(event)
        }
        store.apply(.initStart)
        store.apply(.initObject(map("a")))
        store.apply(.initObject(map("c")))
        let changes = store.apply(.initDone).map { change -> String in
            switch change {
            case .applied(let o): "applied \(o.metadata.name)"
            case .deleted(let o): "deleted \(o.metadata.name)"
            case .ready: "ready"
            }
        }
        #expect(Set(changes) == ["deleted b", "applied c", "ready"], "unchanged a is not reported")
    }

    @Test func appliedAndDeletedUpdateContentAndIndexes() {
        let store = Store<TestConfigMap>(indexedLabelKeys: ["app"])
        store.apply(.initStart)
        store.apply(.initDone)
        store.apply(.applied(map("a", "x", labels: ["app": "web", "tier": "1"])))
        store.apply(.applied(map("b", "x", labels: ["app": "db"])))
        store.apply(.applied(map("c", "y", labels: ["app": "web"])))
        #expect(store.list(namespace: "x").map(\.metadata.name).sorted() == ["a", "b"])
        #expect(store.list(matching: ["app": "web"]).map(\.metadata.name).sorted() == ["a", "c"])
        #expect(store.list(namespace: "x", matching: ["app": "web", "tier": "1"]).map(\.metadata.name) == ["a"])

        store.apply(.applied(map("a", "x", rv: "2", labels: ["app": "db"])))
        #expect(store.list(matching: ["app": "web"]).map(\.metadata.name) == ["c"])
        store.apply(.deleted(map("c", "y")))
        #expect(store.list(namespace: "y").isEmpty)
        #expect(store.get(ObjectKey(namespace: "x", name: "a"))?.metadata.resourceVersion == "2")
    }

    @Test func waitUntilReadyResumesAtInitDone() async {
        let store = Store<TestConfigMap>()
        async let waited: Void = store.waitUntilReady()
        try? await Task.sleep(for: .milliseconds(50))
        store.apply(.initStart)
        store.apply(.initDone)
        await waited
        #expect(store.isReady)
    }
}
