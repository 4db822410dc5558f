import KubeModel
import PolicyCompiler

/// One change to the objects the compiler reads, as delivered by a source (informers or a folder of YAML files).
public enum ClusterChange: Sendable {
    case podApplied(Pod)
    case podDeleted(ObjectKey)
    case namespaceApplied(Namespace)
    case namespaceDeleted(String)
    case networkPolicyApplied(NetworkPolicy)
    case bulwarkPolicyApplied(BulwarkPolicy)
    case policyDeleted(PolicyReference)
    case serviceApplied(Service)
    case serviceDeleted(ObjectKey)
    case endpointSliceApplied(EndpointSlice)
    case endpointSliceDeleted(ObjectKey)
}

/// The full set of objects a source currently holds; sources that re-read everything (standalone mode) hand one of
/// these to the reconciler, which turns it into `ClusterChange`s against what it already knows.
public struct ClusterObjects: Sendable {
    public var pods: [Pod] = []
    public var namespaces: [Namespace] = []
    public var networkPolicies: [NetworkPolicy] = []
    public var bulwarkPolicies: [BulwarkPolicy] = []
    public var services: [Service] = []
    public var endpointSlices: [EndpointSlice] = []

    public init(
        pods: [Pod] = [], namespaces: [Namespace] = [], networkPolicies: [NetworkPolicy] = [],
        bulwarkPolicies: [BulwarkPolicy] = [], services: [Service] = [], endpointSlices: [EndpointSlice] = []
    ) {
        self.pods = pods
        self.namespaces = namespaces
        self.networkPolicies = networkPolicies
        self.bulwarkPolicies = bulwarkPolicies
        self.services = services
        self.endpointSlices = endpointSlices
    }
}

extension PolicyReference {
    init(_ policy: NetworkPolicy) {
        self.init(kind: .networkPolicy, namespace: policy.metadata.namespace ?? "default", name: policy.metadata.name)
    }

    init(_ policy: BulwarkPolicy) {
        self.init(kind: .bulwarkPolicy, namespace: policy.metadata.namespace ?? "default", name: policy.metadata.name)
    }
}
