import Foundation
import KubeClient
import KubeModel
import Testing
import YAML

/// Objects for the test API server, written as YAML like a user would.
struct TestCluster {
    let client: KubeClient

    @discardableResult
    func create<T: KubeResource>(_ type: T.Type, _ yaml: String) async throws -> T {
        let value = try #require(try YAML.parseAll(yaml).first?.value)
        let object = try JSONValueDecoder().decode(T.self, from: value)
        return try await client.api(T.self, namespace: object.metadata.namespace).create(object)
    }

    /// A running pod on `node` with `address`, as the kubelet would report it.
    func createPod(_ namespace: String, _ name: String, app: String, node: String, address: String) async throws {
        var pod = try await create(
            Pod.self,
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: \(namespace), labels: {app: \(app)}}
            spec: {nodeName: \(node), containers: [{name: c}]}
            """)
        pod.status = try JSONValueDecoder().decode(
            PodStatus.self, from: try #require(try YAML.parseAll("{phase: Running, podIP: \(address)}").first?.value))
        _ = try await client.api(Pod.self, namespace: namespace).update(pod, subresource: .status)
    }

    func policy(_ namespace: String, _ name: String) async throws -> BulwarkPolicy {
        try await client.api(BulwarkPolicy.self, namespace: namespace).get(name)
    }

    func patch<T: KubeResource>(_ type: T.Type, _ namespace: String?, _ name: String, _ json: String) async throws {
        _ = try await client.api(T.self, namespace: namespace).patch(name, .merge(json: Data(json.utf8)))
    }
}
