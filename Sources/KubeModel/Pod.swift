/// The subset of a core/v1 Pod that policy decisions need: labels, addresses, node, named ports and phase.
public struct Pod: KubeResource, Hashable {
    public static let group = ""
    public static let version = "v1"
    public static let kind = "Pod"
    public static let plural = "pods"
    public static let namespaced = true

    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec = PodSpec(), status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        spec = try container.decodeIfPresent(PodSpec.self, forKey: .spec) ?? PodSpec()
        status = try container.decodeIfPresent(PodStatus.self, forKey: .status)
    }

    /// The pod's addresses: `status.podIPs`, falling back to `status.podIP` (older API servers set only that).
    /// Unparseable entries are skipped: the API server validates them, so they only come from hand-written files.
    public var addresses: [String] {
        if let podIPs = status?.podIPs, !podIPs.isEmpty { return podIPs.map(\.ip) }
        return status?.podIP.map { [$0] } ?? []
    }

    /// True once the pod has finished (`Succeeded` or `Failed`): its address may already belong to another pod.
    public var isTerminated: Bool { status?.phase == .succeeded || status?.phase == .failed }

    /// Named container ports, across all containers (and restartable init containers, which are sidecars).
    /// One pass, no intermediate arrays: the policy compiler reads this for every pod of the cluster.
    public var namedPorts: [NamedPort] {
        var result: [NamedPort] = []
        func collect(_ container: Container) {
            for port in container.ports ?? [] {
                guard let name = port.name, !name.isEmpty else { continue }
                result.append(NamedPort(name: name, port: port.containerPort, protocol: port.protocol ?? "TCP"))
            }
        }
        for container in spec.containers { collect(container) }
        for container in spec.initContainers ?? [] where container.restartPolicy == "Always" { collect(container) }
        return result
    }
}

/// A container port that has a name, as named-port policy rules resolve it.
public struct NamedPort: Hashable, Sendable, Comparable {
    public var name: String
    public var port: Int32
    public var `protocol`: String

    public init(name: String, port: Int32, protocol: String) {
        self.name = name
        self.port = port
        self.protocol = `protocol`
    }

    public static func < (lhs: NamedPort, rhs: NamedPort) -> Bool {
        (lhs.name, lhs.protocol, lhs.port) < (rhs.name, rhs.protocol, rhs.port)
    }
}

public struct PodSpec: Codable, Hashable, Sendable {
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var containers: [Container]
    public var initContainers: [Container]?

    public init(
        nodeName: String? = nil, hostNetwork: Bool? = nil, containers: [Container] = [], initContainers: [Container]? = nil
    ) {
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
        self.containers = containers
        self.initContainers = initContainers
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        nodeName = try container.decodeIfPresent(String.self, forKey: .nodeName)
        hostNetwork = try container.decodeIfPresent(Bool.self, forKey: .hostNetwork)
        containers = try container.decodeIfPresent([Container].self, forKey: .containers) ?? []
        initContainers = try container.decodeIfPresent([Container].self, forKey: .initContainers)
    }
}

public struct Container: Codable, Hashable, Sendable {
    public var name: String
    public var ports: [ContainerPort]?
    /// `Always` on an init container makes it a sidecar that keeps running (and serving its ports).
    public var restartPolicy: String?

    public init(name: String, ports: [ContainerPort]? = nil, restartPolicy: String? = nil) {
        self.name = name
        self.ports = ports
        self.restartPolicy = restartPolicy
    }
}

public struct ContainerPort: Codable, Hashable, Sendable {
    public var name: String?
    public var containerPort: Int32
    /// `TCP` (default), `UDP` or `SCTP`.
    public var `protocol`: String?

    public init(name: String? = nil, containerPort: Int32, protocol: String? = nil) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
    }
}

public struct PodStatus: Codable, Hashable, Sendable {
    public var phase: PodPhase?
    public var podIP: String?
    public var podIPs: [PodIP]?

    public init(phase: PodPhase? = nil, podIP: String? = nil, podIPs: [PodIP]? = nil) {
        self.phase = phase
        self.podIP = podIP
        self.podIPs = podIPs
    }
}

public struct PodIP: Codable, Hashable, Sendable {
    public var ip: String
    public init(ip: String) { self.ip = ip }
}

/// `status.phase`; string-backed so a phase added by a newer API server still decodes.
public struct PodPhase: RawRepresentable, Codable, Hashable, Sendable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let pending = Self(rawValue: "Pending")
    public static let running = Self(rawValue: "Running")
    public static let succeeded = Self(rawValue: "Succeeded")
    public static let failed = Self(rawValue: "Failed")
    public static let unknown = Self(rawValue: "Unknown")
}
