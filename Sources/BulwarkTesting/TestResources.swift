import KubeModel

/// A core/v1 ConfigMap reduced to what client tests need: a namespaced kind without status subresource.
public struct TestConfigMap: KubeResource, Equatable {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "ConfigMap"
    public static let plural = "configmaps"
    public static let namespaced = true

    public var metadata: ObjectMeta
    public var data: [String: String]?

    public init(
        name: String, namespace: String? = nil, labels: [String: String]? = nil, data: [String: String]? = nil
    ) {
        metadata = ObjectMeta(name: name, namespace: namespace, labels: labels)
        self.data = data
    }
}

/// A core/v1 Pod reduced to the fields a network-policy agent reads (test-only; the real model lives elsewhere).
public struct TestPod: KubeResource, Equatable {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "Pod"
    public static let plural = "pods"
    public static let namespaced = true

    public struct Spec: Codable, Sendable, Equatable {
        public var nodeName: String?
        public init(nodeName: String? = nil) { self.nodeName = nodeName }
    }

    public struct PodIP: Codable, Sendable, Equatable {
        public var ip: String
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: String?
        public var podIPs: [PodIP]?
        public init(phase: String? = nil, podIPs: [String]? = nil) {
            self.phase = phase
            self.podIPs = podIPs?.map { PodIP(ip: $0) }
        }
    }

    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(name: String, namespace: String? = nil, labels: [String: String]? = nil, nodeName: String? = nil) {
        metadata = ObjectMeta(name: name, namespace: namespace, labels: labels)
        spec = Spec(nodeName: nodeName)
    }
}

/// A `bulwark.dev/v1alpha1` policy with the per-node status list-map (`status.nodes`, keyed by `name`).
public struct TestPolicy: KubeResource, Equatable {
    public static let group = "bulwark.dev"
    public static let version = "v1alpha1"
    public static let kind = "BulwarkPolicy"
    public static let plural = "bulwarkpolicies"
    public static let namespaced = true

    public struct NodeStatus: Codable, Sendable, Equatable {
        public var name: String
        public var programmed: Bool?
        public var message: String?
        public init(name: String, programmed: Bool? = nil, message: String? = nil) {
            self.name = name
            self.programmed = programmed
            self.message = message
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var nodes: [NodeStatus]?
        public init(nodes: [NodeStatus]? = nil) { self.nodes = nodes }
    }

    public var metadata: ObjectMeta
    public var spec: [String: String]?
    public var status: Status?

    public init(name: String, namespace: String? = nil, spec: [String: String]? = nil) {
        metadata = ObjectMeta(name: name, namespace: namespace)
        self.spec = spec
    }
}
