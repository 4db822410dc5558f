/// A numeric security identity: every distinct set of (namespace, namespace labels, pod labels) gets one, and so does
/// every distinct set of CIDR selectors an address range falls into.
///
/// Why numbers: the datapath looks up remote IP -> identity in the ipcache, then (identity, protocol, port) in the
/// policy map, so adding a pod changes one ipcache entry instead of every policy that selects it.
public struct Identity: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Wildcard in policy entries: matches any remote identity. Never assigned to an address.
    public static let any = Identity(rawValue: 0)
    /// The local node's own addresses (kubelet probes, host-network pods on this node).
    public static let host = Identity(rawValue: 1)
    /// Addresses outside every known pod and every CIDR selector.
    public static let world = Identity(rawValue: 2)
    /// First identity the compiler may allocate; everything below is reserved.
    public static let firstAllocated: UInt32 = 256

    public var isReserved: Bool { rawValue < Identity.firstAllocated }

    public var description: String {
        switch self {
        case .any: "any"
        case .host: "host"
        case .world: "world"
        default: String(rawValue)
        }
    }

    public static func < (lhs: Identity, rhs: Identity) -> Bool { lhs.rawValue < rhs.rawValue }
}
