import DataplaneModel
import KubeModel

/// What pods with one identity have in common: namespace (and its labels), pod labels and named ports.
///
/// Named ports are part of the set so that every pod of an identity resolves a named port to the same number:
/// an egress rule to port `http` then becomes one entry per destination identity (see `IdentityKey`).
public struct LabelSet: Hashable, Sendable {
    public var namespace: String
    /// Including `kubernetes.io/metadata.name`.
    public var namespaceLabels: [String: String]
    public var podLabels: [String: String]
    public var namedPorts: [NamedPort]

    public init(
        namespace: String, namespaceLabels: [String: String], podLabels: [String: String], namedPorts: [NamedPort]
    ) {
        self.namespace = namespace
        self.namespaceLabels = namespaceLabels
        self.podLabels = podLabels
        self.namedPorts = namedPorts
    }

    /// Hashes everything but the namespace's labels. Why: every pod is looked up by its label set on each full
    /// compile, and live label sets of one namespace always carry its current labels (a namespace relabel rekeys
    /// all its pods), so hashing them costs time and separates nothing. Named ports stay in: they are set by
    /// whoever creates pods, and leaving them out would let many port variants of one label set share a bucket.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(namespace)
        hasher.combine(podLabels)
        hasher.combine(namedPorts)
    }

    /// The port a named port resolves to on these pods, matching name and protocol.
    func resolve(_ name: String, proto: L4Protocol) -> UInt16? {
        namedPorts.first { $0.name == name && $0.protocol == proto.description }.flatMap { UInt16(exactly: $0.port) }
    }
}

/// What an identity stands for: pod labels (nil for addresses outside every pod) and the CIDR selectors of all
/// accepted policies that contain its addresses.
///
/// Why both in one key: the ipcache maps an address to one identity, and an `ipBlock` matches pod addresses too;
/// so a pod address gets the identity of (its labels, the ipBlocks containing it), and a CIDR prefix gets the
/// identity of (no labels, the ipBlocks containing it). A policy peer then matches a set of identities.
public struct IdentityKey: Hashable, Sendable {
    public var labels: LabelSet?
    /// Sorted.
    var selectors: [CIDRSelector]

    /// The ipBlocks (`cidr except ...`) that contain this identity's addresses.
    public var cidrSelectors: [String] { selectors.map(\.description) }

    /// Canonical text: sorted keys and values, separators that cannot occur in labels. Hashed into the identity
    /// number, so it must never change for the same key.
    var canonical: String {
        var text = ""
        if let labels {
            text += "ns\u{1}\(labels.namespace)\u{2}"
            for (key, value) in labels.namespaceLabels.sorted(by: { $0.key < $1.key }) { text += "\(key)\u{1}\(value)\u{2}" }
            text += "pod\u{2}"
            for (key, value) in labels.podLabels.sorted(by: { $0.key < $1.key }) { text += "\(key)\u{1}\(value)\u{2}" }
            text += "ports\u{2}"
            for port in labels.namedPorts { text += "\(port.name)\u{1}\(port.protocol)\u{1}\(port.port)\u{2}" }
        }
        text += "cidrs\u{2}"
        for selector in selectors { text += "\(selector)\u{2}" }
        return text
    }
}

/// Hands out identity numbers derived from a hash of the key, so the same labels get the same number on every node
/// and after every restart without coordination.
///
/// Collisions (two keys hashing to one number) are resolved by probing upward; keys allocated in one batch are
/// allocated in canonical order, so the result depends only on the set of keys, not on event order within a batch.
struct IdentityAllocator: Sendable {
    /// Numbers live in [256, 2^31): wide enough that collisions among tens of thousands of keys are rare.
    private static let space: UInt64 = (1 << 31) - UInt64(Identity.firstAllocated)

    private(set) var identities: [IdentityKey: Identity] = [:]
    private(set) var keys: [Identity: IdentityKey] = [:]
    private var references: [Identity: Int] = [:]

    /// Takes one reference to each key, allocating numbers for new keys (appended to `created`); returns the
    /// identity of each key of `batch`, in order.
    mutating func retain(_ batch: [IdentityKey], created: inout [Identity]) -> [Identity] {
        var result = [Identity](repeating: .world, count: batch.count)
        var pending: [IdentityKey: [Int]] = [:]
        for (index, key) in batch.enumerated() {
            if let identity = identities[key] {
                references[identity, default: 0] += 1
                result[index] = identity
            } else {
                pending[key, default: []].append(index)
            }
        }
        for (canonical, key) in pending.keys.map({ ($0.canonical, $0) }).sorted(by: { $0.0 < $1.0 }) {
            var number = UInt64(Identity.firstAllocated) + Self.fnv1a(canonical) % Self.space
            while keys[Identity(rawValue: UInt32(number))] != nil {
                number = UInt64(Identity.firstAllocated) + (number - UInt64(Identity.firstAllocated) + 1) % Self.space
            }
            let identity = Identity(rawValue: UInt32(number))
            let indices = pending[key]!
            identities[key] = identity
            keys[identity] = key
            references[identity] = indices.count
            for index in indices { result[index] = identity }
            created.append(identity)
        }
        return result
    }

    /// Drops one reference; returns the identity when it is no longer used (and was freed).
    mutating func release(_ key: IdentityKey) -> Identity? {
        guard let identity = identities[key], let count = references[identity] else { return nil }
        if count > 1 {
            references[identity] = count - 1
            return nil
        }
        references[identity] = nil
        identities[key] = nil
        keys[identity] = nil
        return identity
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
