/// A Kubernetes object type the client can address generically (get, list, watch, apply).
///
/// Why a protocol with static metadata: the REST path of a resource (`/apis/GROUP/VERSION/namespaces/NS/PLURAL`)
/// follows from its group, version, plural and scope, so one generic client serves every type.
public protocol KubeResource: Codable, Sendable {
    /// API group; empty for the core group (`/api/v1`).
    static var group: String { get }
    static var version: String { get }
    static var kind: String { get }
    /// Lower-case plural used in URLs, e.g. `pods`, `bulwarkpolicies`.
    static var plural: String { get }
    static var namespaced: Bool { get }

    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    /// `apiVersion` as written in manifests: `v1` for the core group, `GROUP/VERSION` otherwise.
    public static var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public var key: ObjectKey { ObjectKey(namespace: metadata.namespace, name: metadata.name) }
}
