/// A `coordination.k8s.io/v1` Lease: the lock object of leader election.
///
/// Why a Lease and not an annotation: the API server updates it with optimistic concurrency on a small object, and
/// `kubectl get lease` shows who leads.
public struct Lease: KubeResource, Hashable {
    public static let group = "coordination.k8s.io"
    public static let version = "v1"
    public static let kind = "Lease"
    public static let plural = "leases"
    public static let namespaced = true

    public var metadata: ObjectMeta
    public var spec: LeaseSpec?

    public init(metadata: ObjectMeta, spec: LeaseSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct LeaseSpec: Codable, Hashable, Sendable {
    /// Identity of the current holder; empty or nil when released.
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int32?
    /// MicroTime (RFC 3339 with microseconds) when the current holder acquired the lease.
    public var acquireTime: String?
    /// MicroTime of the holder's last renewal.
    public var renewTime: String?
    /// How many times the lease changed hands.
    public var leaseTransitions: Int32?

    public init(
        holderIdentity: String? = nil, leaseDurationSeconds: Int32? = nil, acquireTime: String? = nil,
        renewTime: String? = nil, leaseTransitions: Int32? = nil
    ) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }
}
