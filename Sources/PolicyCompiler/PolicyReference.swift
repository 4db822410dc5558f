import KubeModel

/// Which policy a result or rule belongs to: kind, namespace and name.
public struct PolicyReference: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Comparable, Sendable {
        case networkPolicy = "NetworkPolicy"
        case bulwarkPolicy = "BulwarkPolicy"

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var kind: Kind
    public var namespace: String
    public var name: String

    public init(kind: Kind, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `BulwarkPolicy x/deny-db`, as rule descriptions and events print it.
    public var description: String { "\(kind.rawValue) \(namespace)/\(name)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.namespace, lhs.name, lhs.kind) < (rhs.namespace, rhs.name, rhs.kind)
    }
}

extension ObjectMeta {
    /// The namespace, with the API server's default for objects from files that omit it.
    var namespaceOrDefault: String { namespace ?? "default" }
}
