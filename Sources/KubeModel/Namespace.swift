/// A core/v1 Namespace; policies only need its labels.
public struct Namespace: KubeResource, Hashable {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "Namespace"
    public static let plural = "namespaces"
    public static let namespaced = false

    /// Set by the API server on every namespace (since Kubernetes 1.22) to the namespace's name, so policies can
    /// select a namespace by name.
    public static let nameLabel = "kubernetes.io/metadata.name"

    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) { self.metadata = metadata }

    public init(name: String, labels: [String: String] = [:]) {
        self.metadata = ObjectMeta(name: name, labels: labels)
    }

    /// The labels as the API server presents them: always including `kubernetes.io/metadata.name`, even when a
    /// hand-written object (standalone mode) omits it.
    public var effectiveLabels: [String: String] { Self.effectiveLabels(name: metadata.name, labels: metadata.labels) }

    /// The labels of a namespace named `name`, with the automatic name label added.
    public static func effectiveLabels(name: String, labels: [String: String]?) -> [String: String] {
        var result = labels ?? [:]
        result[nameLabel] = name
        return result
    }
}
