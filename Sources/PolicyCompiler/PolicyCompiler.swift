import DataplaneModel
import KubeModel

/// Compiles NetworkPolicies and BulwarkPolicies, with the pods and namespaces they select, into the desired
/// dataplane state of one node.
///
/// Pure: no I/O, no clock. Feed it object changes (`update`/`remove`), then call `compile()`; it keeps caches
/// (identities, peer selections indexed by namespace, entry templates of the policies that select a pod on this
/// node, per-endpoint entries) and recomputes only what a change touches, so a pod label change costs work
/// proportional to the policies and local endpoints that notice it, not to the cluster.
/// `PolicyCompiler.compile(_:)` is the one-shot form for a whole snapshot.
///
/// Semantics are Kubernetes NetworkPolicy semantics (isolation per direction only when selected for it, union of
/// allows, empty vs absent selectors, named ports resolved on the pod that owns them), plus BulwarkPolicy's Deny rules
/// (deny beats allow across all policies) and Audit mode.
public struct PolicyCompiler: Sendable {
    /// The node whose pods are enforced; nil treats every pod as local (standalone mode, `bulwark explain`).
    public let node: String?
    /// The local node's own addresses, which get the `host` identity.
    public let nodeAddresses: [IPAddress]

    // Inputs.
    var pods: [ObjectKey: PodRecord] = [:]
    var podsByNamespace: [String: Set<ObjectKey>] = [:]
    /// The pods of `podsByNamespace` enforced on this node: the only ones a policy's pod selector is matched against.
    var localPodsByNamespace: [String: Set<ObjectKey>] = [:]
    var namespaceLabels: [String: [String: String]] = [:]
    var policies: [PolicyReference: PolicyRecord] = [:]

    // What changed since the last compile.
    var dirtyPods: Set<ObjectKey> = []
    var dirtyNamespaces: Set<String> = []
    var dirtyPolicies: Set<PolicyReference> = []

    // Derived state, kept between compiles.
    var allocator = IdentityAllocator()
    var cidrIndex = CIDRIndex()
    var selectorUsers: [CIDRSelector: Set<PolicyReference>] = [:]
    var identitiesBySelector: [CIDRSelector: Set<Identity>] = [:]
    var identitiesByNamespace: [String: Set<Identity>] = [:]
    var peers: [PodPeer: PeerRecord] = [:]
    var peerIndex = PeerIndex()
    var prefixKeys: [IPPrefix: IdentityKey] = [:]
    /// The pods holding each address with their identity; usually one, two while an address moves between pods.
    var addressClaims: [IPAddress: [(pod: ObjectKey, identity: Identity)]] = [:]
    var ipcache = SortedIPCache()
    /// Rule meanings, published as is: it holds the two node rules from the start.
    var ruleInfo: [RuleID: RuleInfo] = [
        .nodeIngress: RuleInfo(policy: "node traffic (always allowed)", direction: .ingress, index: 0),
        .nodeEgress: RuleInfo(policy: "node traffic (always allowed)", direction: .egress, index: 0),
    ]
    var templates: [PolicyReference: PolicyTemplates] = [:]
    var targets: [PolicyReference: Set<ObjectKey>] = [:]
    var endpointPolicies: [ObjectKey: Set<PolicyReference>] = [:]
    var endpoints: [ObjectKey: Endpoint] = [:]
    var endpointEntryCounts: [ObjectKey: [PolicyReference: Int]] = [:]
    var policyEntryCounts: [PolicyReference: Int] = [:]
    var activePolicies: [PolicyReference: ValidatedPolicy] = [:]
    var policiesByNamespace: [String: Set<PolicyReference>] = [:]
    var podIdentities: [ObjectKey: [AddressIdentity]] = [:]
    var prefixIdentities: [IPPrefix: Identity] = [:]
    var endpointOrder: [ObjectKey] = []
    var policyResults: [PolicyReference: PolicyResult] = [:]

    public init(node: String?, nodeAddresses: [IPAddress] = []) {
        self.node = node
        self.nodeAddresses = nodeAddresses.sorted()
        for address in self.nodeAddresses { ipcache.set(IPPrefix(host: address), .host) }
        for prefix in cidrIndex.prefixes {
            prefixIdentities[prefix] = .world
            ipcache.set(prefix, .world)
        }
    }

    /// Compiles a whole snapshot from scratch.
    public static func compile(_ snapshot: ClusterSnapshot) -> CompileResult {
        var compiler = PolicyCompiler(node: snapshot.node, nodeAddresses: snapshot.nodeAddresses)
        for namespace in snapshot.namespaces { compiler.update(namespace) }
        for pod in snapshot.pods { compiler.update(pod) }
        for policy in snapshot.networkPolicies { compiler.update(policy) }
        for policy in snapshot.bulwarkPolicies { compiler.update(policy) }
        return compiler.compile()
    }

    public mutating func update(_ pod: Pod) {
        let record = PodRecord(pod)
        if let old = pods[record.key] {
            // Most pod updates (status, annotations, owner changes) touch nothing the compiler reads.
            guard old != record else { return }
            remove(podNamed: record.key)
        }
        pods[record.key] = record
        podsByNamespace[record.namespace, default: []].insert(record.key)
        if isLocal(record) { localPodsByNamespace[record.namespace, default: []].insert(record.key) }
        dirtyPods.insert(record.key)
    }

    public mutating func remove(podNamed key: ObjectKey) {
        guard let old = pods.removeValue(forKey: key) else { return }
        podsByNamespace[old.namespace]?.remove(key)
        localPodsByNamespace[old.namespace]?.remove(key)
        dirtyPods.insert(key)
    }

    public mutating func update(_ namespace: Namespace) {
        let labels = namespace.effectiveLabels
        guard namespaceLabels[namespace.metadata.name] != labels else { return }
        namespaceLabels[namespace.metadata.name] = labels
        dirtyNamespaces.insert(namespace.metadata.name)
    }

    public mutating func remove(namespaceNamed name: String) {
        guard namespaceLabels.removeValue(forKey: name) != nil else { return }
        dirtyNamespaces.insert(name)
    }

    public mutating func update(_ policy: NetworkPolicy) {
        let record = PolicyRecord(validation: PolicyValidator.validate(policy))
        let reference = PolicyReference(
            kind: .networkPolicy, namespace: policy.metadata.namespaceOrDefault, name: policy.metadata.name)
        setPolicy(record, for: reference)
    }

    public mutating func update(_ policy: BulwarkPolicy) {
        let record = PolicyRecord(validation: PolicyValidator.validate(policy))
        let reference = PolicyReference(
            kind: .bulwarkPolicy, namespace: policy.metadata.namespaceOrDefault, name: policy.metadata.name)
        setPolicy(record, for: reference)
    }

    public mutating func remove(policy reference: PolicyReference) {
        guard policies[reference] != nil else { return }
        policies[reference] = nil
        dirtyPolicies.insert(reference)
    }

    private mutating func setPolicy(_ record: PolicyRecord, for reference: PolicyReference) {
        guard policies[reference] != record else { return }
        policies[reference] = record
        dirtyPolicies.insert(reference)
    }

    /// True when `pod` is enforced on this node.
    func isLocal(_ pod: PodRecord) -> Bool { pod.eligible && (node == nil || pod.nodeName == node) }

    func labels(ofNamespace name: String) -> [String: String] {
        namespaceLabels[name] ?? Namespace.effectiveLabels(name: name, labels: nil)
    }
}

/// Everything a compile reads, for the one-shot form.
public struct ClusterSnapshot: Sendable {
    public var node: String?
    public var nodeAddresses: [IPAddress]
    public var pods: [Pod]
    public var namespaces: [Namespace]
    public var networkPolicies: [NetworkPolicy]
    public var bulwarkPolicies: [BulwarkPolicy]

    public init(
        node: String?, nodeAddresses: [IPAddress] = [], pods: [Pod] = [], namespaces: [Namespace] = [],
        networkPolicies: [NetworkPolicy] = [], bulwarkPolicies: [BulwarkPolicy] = []
    ) {
        self.node = node
        self.nodeAddresses = nodeAddresses
        self.pods = pods
        self.namespaces = namespaces
        self.networkPolicies = networkPolicies
        self.bulwarkPolicies = bulwarkPolicies
    }
}

/// A pod reduced to what compiling needs.
struct PodRecord: Hashable, Sendable {
    var key: ObjectKey
    var namespace: String
    var labels: [String: String]
    var nodeName: String?
    var addresses: [IPAddress]
    var namedPorts: [NamedPort]
    /// False for host-network pods (their traffic is the node's), pods without addresses and finished pods.
    var eligible: Bool

    init(_ pod: Pod) {
        namespace = pod.metadata.namespaceOrDefault
        key = ObjectKey(namespace: namespace, name: pod.metadata.name)
        labels = pod.metadata.labels ?? [:]
        nodeName = pod.spec.nodeName
        addresses = pod.addresses.compactMap { IPAddress($0) }.sortedUnique()
        namedPorts = pod.namedPorts.sortedUnique()
        eligible = !(pod.spec.hostNetwork ?? false) && !addresses.isEmpty && !pod.isTerminated
    }
}

/// A policy as last seen: validated, or rejected with its errors.
struct PolicyRecord: Hashable, Sendable {
    var validation: Result<ValidatedPolicy, PolicyErrors>

    var accepted: ValidatedPolicy? { if case .success(let policy) = validation { policy } else { nil } }
}

/// A pod peer's cached selection and the policies that use it.
struct PeerRecord: Sendable {
    var identities: Set<Identity> = []
    var users: Set<PolicyReference> = []
}

extension Array where Element: Comparable {
    /// Sorted, without duplicates, without hashing: a record is built for every pod of the cluster.
    func sortedUnique() -> [Element] {
        guard count > 1 else { return self }
        var result: [Element] = []
        result.reserveCapacity(count)
        for element in sorted() where result.last != element { result.append(element) }
        return result
    }
}
