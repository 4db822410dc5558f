import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import Testing

/// The apply configuration one node's agent sends: only its own `status.nodes` entry.
private struct NodeStatusApply: Encodable, Sendable {
    struct Metadata: Encodable { var name: String }
    struct Status: Encodable { var nodes: [TestPolicy.NodeStatus] }
    var metadata: Metadata
    var status: Status

    init(policy: String, nodes: [TestPolicy.NodeStatus]) {
        metadata = Metadata(name: policy)
        status = Status(nodes: nodes)
    }
}

@Suite struct ServerSideApplyTests {
    @Test func twoFieldManagersApplyTheirOwnStatusNodesConcurrently() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let policies = server.client().api(TestPolicy.self)
        _ = try await policies.create(TestPolicy(name: "shared", spec: ["a": "b"]))

        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in ["node-a", "node-b"] {
                group.addTask {
                    for round in 0..<10 {
                        let entry = TestPolicy.NodeStatus(name: node, programmed: round % 2 == 0, message: "r\(round)")
                        _ = try await policies.apply(
                            "shared", configuration: NodeStatusApply(policy: "shared", nodes: [entry]),
                            fieldManager: "bulwark-\(node)", subresource: .status)
                    }
                }
            }
            try await group.waitForAll()
        }
        let nodes = try await policies.get("shared").status?.nodes ?? []
        #expect(nodes.map(\.name).sorted() == ["node-a", "node-b"])
        #expect(nodes.allSatisfy { $0.message == "r9" && $0.programmed == false })
    }

    @Test func applyRemovesOnlyEntriesItsManagerNoLongerLists() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let policies = server.client().api(TestPolicy.self)
        _ = try await policies.create(TestPolicy(name: "p"))
        let a = TestPolicy.NodeStatus(name: "a", programmed: true)
        let a2 = TestPolicy.NodeStatus(name: "a2", programmed: true)
        let b = TestPolicy.NodeStatus(name: "b", programmed: true)
        _ = try await policies.apply("p", configuration: NodeStatusApply(policy: "p", nodes: [a, a2]),
                                     fieldManager: "m-a", subresource: .status)
        _ = try await policies.apply("p", configuration: NodeStatusApply(policy: "p", nodes: [b]),
                                     fieldManager: "m-b", subresource: .status)
        let after = try await policies.apply("p", configuration: NodeStatusApply(policy: "p", nodes: [a]),
                                             fieldManager: "m-a", subresource: .status)
        #expect(after.status?.nodes?.map(\.name) == ["a", "b"])
    }

    @Test func changingAnotherManagersFieldConflictsUnlessForced() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let policies = server.client().api(TestPolicy.self)
        _ = try await policies.create(TestPolicy(name: "p"))
        _ = try await policies.apply(
            "p", configuration: NodeStatusApply(policy: "p", nodes: [.init(name: "a", programmed: true)]),
            fieldManager: "owner", subresource: .status)
        let intruder = NodeStatusApply(policy: "p", nodes: [.init(name: "a", programmed: false)])
        let error = await kubeError {
            _ = try await policies.apply("p", configuration: intruder, fieldManager: "intruder", subresource: .status)
        }
        guard case .conflict = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.causes.map(\.field) == [#".status.nodes[name="a"].programmed"#])
        #expect(error?.message.contains(#"conflict with "owner""#) == true)

        let forced = try await policies.apply("p", configuration: intruder, fieldManager: "intruder", force: true,
                                              subresource: .status)
        #expect(forced.status?.nodes?.first?.programmed == false)
    }

    @Test func applyToTheMainResourceIgnoresStatusAndCreatesTheObject() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let policies = server.client().api(TestPolicy.self)
        var desired = TestPolicy(name: "new", spec: ["x": "1"])
        desired.status = TestPolicy.Status(nodes: [.init(name: "n")])
        let created = try await policies.apply("new", configuration: desired, fieldManager: "cli")
        #expect(created.spec == ["x": "1"])
        #expect(created.status == nil)
        #expect(created.metadata.generation == 1)
    }
}
