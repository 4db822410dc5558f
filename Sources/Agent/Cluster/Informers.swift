import KubeClient
import KubeModel
import KubeRuntime
import Logging
import PolicyCompiler

/// The caches the compiler reads, each filled by a list+watch reflector, turned into `ClusterChange`s.
///
/// Why one type: the agent must not program anything before *every* cache finished its initial list
/// (`allReady`), and the leader reads the same caches for status; both need them in one place.
public final class Informers: Sendable {
    public let pods = Store<Pod>()
    public let namespaces = Store<Namespace>()
    public let networkPolicies = Store<NetworkPolicy>()
    public let bulwarkPolicies = Store<BulwarkPolicy>()
    public let services = Store<Service>()
    public let endpointSlices = Store<EndpointSlice>()

    private let client: KubeClient
    private let reconnectBackoff: Backoff
    private let logger: Logger

    /// - Parameters:
    ///   - reconnectBackoff: How every watcher waits between failed lists and watches; its `maximum` bounds how long
    ///     the caches take to catch up once an unreachable API server is back.
    public init(client: KubeClient, reconnectBackoff: Backoff = Backoff(), logger: Logger) {
        self.client = client
        self.reconnectBackoff = reconnectBackoff
        self.logger = logger
    }

    /// True once every cache has swapped in its first complete list.
    public var allReady: Bool {
        pods.isReady && namespaces.isReady && networkPolicies.isReady && bulwarkPolicies.isReady && services.isReady
            && endpointSlices.isReady
    }

    public func waitUntilReady() async {
        await pods.waitUntilReady()
        await namespaces.waitUntilReady()
        await networkPolicies.waitUntilReady()
        await bulwarkPolicies.waitUntilReady()
        await services.waitUntilReady()
        await endpointSlices.waitUntilReady()
    }

    /// Runs every reflector until cancelled.
    ///
    /// - Parameters:
    ///   - deliver: receives the changes of each watch event (in order per kind).
    ///   - listed: called with the resource name and whether it was a relist, whenever a cache swapped in a
    ///     complete list (a relist means the watch broke or the server answered 410 Gone).
    public func run(
        deliver: @escaping @Sendable (ClusterChange) async -> Void,
        listed: @escaping @Sendable (_ resource: String, _ relist: Bool) async -> Void
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.reflect(self.pods, transform: Self.strip, listed: listed) { change in
                    switch change {
                    case .applied(let pod): await deliver(.podApplied(pod))
                    case .deleted(let pod): await deliver(.podDeleted(pod.key))
                    }
                }
            }
            group.addTask {
                await self.reflect(self.namespaces, listed: listed) { change in
                    switch change {
                    case .applied(let namespace): await deliver(.namespaceApplied(namespace))
                    case .deleted(let namespace): await deliver(.namespaceDeleted(namespace.metadata.name))
                    }
                }
            }
            group.addTask {
                await self.reflect(self.networkPolicies, listed: listed) { change in
                    switch change {
                    case .applied(let policy): await deliver(.networkPolicyApplied(policy))
                    case .deleted(let policy): await deliver(.policyDeleted(PolicyReference(policy)))
                    }
                }
            }
            group.addTask {
                await self.reflect(self.bulwarkPolicies, listed: listed) { change in
                    switch change {
                    case .applied(let policy): await deliver(.bulwarkPolicyApplied(policy))
                    case .deleted(let policy): await deliver(.policyDeleted(PolicyReference(policy)))
                    }
                }
            }
            group.addTask {
                await self.reflect(self.services, listed: listed) { change in
                    switch change {
                    case .applied(let service): await deliver(.serviceApplied(service))
                    case .deleted(let service): await deliver(.serviceDeleted(service.key))
                    }
                }
            }
            group.addTask {
                await self.reflect(self.endpointSlices, listed: listed) { change in
                    switch change {
                    case .applied(let slice): await deliver(.endpointSliceApplied(slice))
                    case .deleted(let slice): await deliver(.endpointSliceDeleted(slice.key))
                    }
                }
            }
        }
    }

    private enum ObjectChange<T> {
        case applied(T)
        case deleted(T)
    }

    /// What the pod cache keeps of a pod: the agent reads labels, addresses, node, phase, ports and its own
    /// interface annotation; other annotations (often kilobytes, e.g. `kubectl.kubernetes.io/last-applied-
    /// configuration`), the uid and the creation time would only cost memory on every node for every pod.
    static let strip: @Sendable (Pod) -> Pod = { pod in
        var pod = pod
        pod.metadata.uid = nil
        pod.metadata.creationTimestamp = nil
        let interface = pod.metadata.annotations?[interfaceAnnotation]
        pod.metadata.annotations = interface.map { [interfaceAnnotation: $0] }
        return pod
    }

    private func reflect<T: KubeResource>(
        _ store: Store<T>, transform: @escaping @Sendable (T) -> T = { $0 },
        listed: @Sendable (String, Bool) async -> Void, handle: (ObjectChange<T>) async -> Void
    ) async {
        let watcher = Watcher(
            api: client.api(T.self, namespace: nil), config: WatcherConfig(backoff: reconnectBackoff), logger: logger)
        var lists = 0
        for await change in Reflector(watcher: watcher, store: store, transform: transform) {
            switch change {
            case .applied(let object): await handle(.applied(object))
            case .deleted(let object): await handle(.deleted(object))
            case .ready:
                lists += 1
                await listed(T.plural, lists > 1)
            }
        }
    }
}
