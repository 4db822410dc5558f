/// The subset of a core/v1 Service needed to map a virtual IP and port to its backends.
public struct Service: KubeResource, Hashable {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "Service"
    public static let plural = "services"
    public static let namespaced = true

    public var metadata: ObjectMeta
    public var spec: ServiceSpec

    public init(metadata: ObjectMeta, spec: ServiceSpec = ServiceSpec()) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct ServiceSpec: Codable, Hashable, Sendable {
    /// `None` for headless services.
    public var clusterIP: String?
    /// All cluster IPs (one per family); the first equals `clusterIP`.
    public var clusterIPs: [String]?
    public var ports: [ServicePort]?

    public init(clusterIP: String? = nil, clusterIPs: [String]? = nil, ports: [ServicePort]? = nil) {
        self.clusterIP = clusterIP
        self.clusterIPs = clusterIPs
        self.ports = ports
    }
}

public struct ServicePort: Codable, Hashable, Sendable {
    public var name: String?
    public var `protocol`: String?
    public var port: Int32
    /// Container port number or name on the backends; defaults to `port`.
    public var targetPort: IntOrString?

    public init(name: String? = nil, protocol: String? = nil, port: Int32, targetPort: IntOrString? = nil) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
        self.targetPort = targetPort
    }
}

/// A `discovery.k8s.io/v1` EndpointSlice: the backends of a Service (label `kubernetes.io/service-name`).
public struct EndpointSlice: KubeResource, Hashable {
    public static let group = "discovery.k8s.io"
    public static let version = "v1"
    public static let kind = "EndpointSlice"
    public static let plural = "endpointslices"
    public static let namespaced = true

    /// Label naming the Service a slice belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"

    public var metadata: ObjectMeta
    /// `IPv4`, `IPv6` or `FQDN`.
    public var addressType: String
    public var endpoints: [EndpointSliceEndpoint]
    public var ports: [EndpointSlicePort]?

    public init(
        metadata: ObjectMeta, addressType: String, endpoints: [EndpointSliceEndpoint] = [],
        ports: [EndpointSlicePort]? = nil
    ) {
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        addressType = try container.decode(String.self, forKey: .addressType)
        endpoints = try container.decodeIfPresent([EndpointSliceEndpoint].self, forKey: .endpoints) ?? []
        ports = try container.decodeIfPresent([EndpointSlicePort].self, forKey: .ports)
    }
}

public struct EndpointSliceEndpoint: Codable, Hashable, Sendable {
    public var addresses: [String]
    public var conditions: EndpointConditions?
    public var nodeName: String?

    public init(addresses: [String], conditions: EndpointConditions? = nil, nodeName: String? = nil) {
        self.addresses = addresses
        self.conditions = conditions
        self.nodeName = nodeName
    }
}

public struct EndpointConditions: Codable, Hashable, Sendable {
    /// Absent means unknown, which consumers treat as ready.
    public var ready: Bool?
    public var serving: Bool?
    public var terminating: Bool?

    public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }
}

public struct EndpointSlicePort: Codable, Hashable, Sendable {
    /// Matches the Service port's name.
    public var name: String?
    public var `protocol`: String?
    public var port: Int32?

    public init(name: String? = nil, protocol: String? = nil, port: Int32? = nil) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
    }
}
