import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import Testing

@Suite struct RequestTests {
    @Test func createGetUpdateDeleteRoundTripThroughTheServer() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self, namespace: "default")

        let created = try await maps.create(TestConfigMap(name: "settings", data: ["a": "1"]))
        #expect(created.metadata.namespace == "default")
        #expect(created.metadata.uid != nil)
        let fetched = try await maps.get("settings")
        #expect(fetched.data == ["a": "1"])
        #expect(fetched.metadata.resourceVersion == created.metadata.resourceVersion)

        var changed = fetched
        changed.data = ["a": "2"]
        let updated = try await maps.update(changed)
        #expect(updated.data == ["a": "2"])
        #expect(Int(updated.metadata.resourceVersion!)! > Int(created.metadata.resourceVersion!)!)

        try await maps.delete("settings")
        #expect(try await maps.getIfPresent("settings") == nil)
    }

    @Test func updateWithAStaleResourceVersionIsAConflict() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self, namespace: "default")
        let first = try await maps.create(TestConfigMap(name: "c", data: ["v": "1"]))
        var second = first
        second.data = ["v": "2"]
        _ = try await maps.update(second)
        var stale = first
        stale.data = ["v": "3"]
        let error = await kubeError { _ = try await maps.update(stale) }
        guard case .conflict(let status) = error else {
            Issue.record("expected conflict, got \(String(describing: error))")
            return
        }
        #expect(status.message?.contains("the object has been modified") == true)
    }

    @Test func listPagesWithLimitAndContinue() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self, namespace: "default")
        for index in 0..<7 {
            _ = try await maps.create(TestConfigMap(name: "m\(index)"))
        }
        let firstPage = try await maps.list(ListOptions(limit: 3))
        #expect(firstPage.items.map(\.metadata.name) == ["m0", "m1", "m2"])
        let token = try #require(firstPage.continueToken)
        let secondPage = try await maps.list(ListOptions(limit: 3, continueToken: token))
        #expect(secondPage.items.map(\.metadata.name) == ["m3", "m4", "m5"])

        let all = try await maps.listAll(pageSize: 2)
        #expect(all.items.map(\.metadata.name) == (0..<7).map { "m\($0)" })
        #expect(all.resourceVersion == firstPage.resourceVersion)
        #expect(all.continueToken == nil)
    }

    @Test func labelAndFieldSelectorsFilterLists() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = server.client()
        let pods = client.api(TestPod.self, namespace: "default")
        _ = try await pods.create(TestPod(name: "web-1", labels: ["app": "web", "tier": "front"], nodeName: "n1"))
        _ = try await pods.create(TestPod(name: "web-2", labels: ["app": "web"], nodeName: "n2"))
        _ = try await pods.create(TestPod(name: "db-1", labels: ["app": "db"], nodeName: "n1"))

        let web = try await pods.list(ListOptions(labelSelector: "app=web"))
        #expect(web.items.map(\.metadata.name) == ["web-1", "web-2"])
        let notFront = try await pods.list(ListOptions(labelSelector: "app in (web,db),!tier"))
        #expect(notFront.items.map(\.metadata.name) == ["db-1", "web-2"])
        let everywhere = client.api(TestPod.self, namespace: nil)
        let onNode = try await everywhere.list(ListOptions(fieldSelector: "spec.nodeName=n1"))
        #expect(onNode.items.map(\.metadata.name) == ["db-1", "web-1"])
        let named = try await pods.list(ListOptions(fieldSelector: "metadata.name!=web-1"))
        #expect(named.items.map(\.metadata.name) == ["db-1", "web-2"])
    }

    @Test func mergeAndJSONPatchesChangeTheObject() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self, namespace: "default")
        _ = try await maps.create(TestConfigMap(name: "p", data: ["keep": "1", "drop": "2"]))

        struct DataPatch: Encodable { var data: [String: String?] }
        let merged = try await maps.patch("p", .merge(DataPatch(data: ["drop": nil, "new": "3"])))
        #expect(merged.data == ["keep": "1", "new": "3"])

        let patched = try await maps.patch("p", .json([
            .test("/data/keep", "1"), .replace("/data/keep", "10"), .add("/metadata/labels", ["x": "y"]),
        ]))
        #expect(patched.data?["keep"] == "10")
        #expect(patched.metadata.labels == ["x": "y"])

        let failedTest = await kubeError { _ = try await maps.patch("p", .json([.test("/data/keep", "1")])) }
        guard case .invalid = failedTest else {
            Issue.record("a failed JSON-patch test must be Invalid, got \(String(describing: failedTest))")
            return
        }
    }

    @Test func generationChangesOnlyWithTheSpec() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let pods = server.client().api(TestPod.self, namespace: "default")
        let created = try await pods.create(TestPod(name: "g", nodeName: "n1"))
        #expect(created.metadata.generation == 1)
        var labelled = created
        labelled.metadata.labels = ["a": "b"]
        let afterLabels = try await pods.update(labelled)
        #expect(afterLabels.metadata.generation == 1)
        var moved = afterLabels
        moved.spec?.nodeName = "n2"
        let afterSpec = try await pods.update(moved)
        #expect(afterSpec.metadata.generation == 2)
    }

    @Test func statusSubresourceIsIsolatedFromTheMainResource() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let pods = server.client().api(TestPod.self, namespace: "default")
        var pod = try await pods.create(TestPod(name: "s", nodeName: "n1"))

        pod.status = TestPod.Status(phase: "Running", podIPs: ["10.0.0.1"])
        pod.spec?.nodeName = "ignored-by-status"
        let afterStatus = try await pods.update(pod, subresource: .status)
        #expect(afterStatus.status?.phase == "Running")
        #expect(afterStatus.spec?.nodeName == "n1")
        #expect(afterStatus.metadata.generation == 1)

        var main = afterStatus
        main.status = TestPod.Status(phase: "Failed")
        main.spec?.nodeName = "n2"
        let afterMain = try await pods.update(main)
        #expect(afterMain.status?.phase == "Running")
        #expect(afterMain.spec?.nodeName == "n2")
        let status = try await pods.get("s", subresource: .status)
        #expect(status.status?.podIPs?.first?.ip == "10.0.0.1")
    }
}
