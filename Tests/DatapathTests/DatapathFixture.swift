import Datapath
import DataplaneModel
import Foundation
import Synchronization

let isRoot = getuid() == 0
private let fixtureCounter = Atomic<Int>(0)

/// A datapath on a unique pin root, removed when the fixture goes away (also when the test fails).
final class DatapathFixture {
    let root: String
    let datapath: Datapath

    init() throws {
        try Datapath.mountBPFFileSystem()
        let index = fixtureCounter.add(1, ordering: .relaxed).newValue
        root = "/sys/fs/bpf/bulwark-test-\(getpid())-\(index)"
        datapath = try Datapath(pinRoot: root)
    }

    deinit { try? Datapath.removePins(at: root) }
}

/// Addresses and identities the verdict tests use. The endpoint under test is loopback (ifindex 1), because
/// `BPF_PROG_TEST_RUN` needs an existing interface.
enum Net {
    static let pod4 = "10.0.0.1", pod6 = "fd00::1"
    static let a4 = "10.0.1.1", a6 = "fd00:1::1"
    static let b4 = "10.0.2.1", b6 = "fd00:2::1"
    static let world4 = "8.8.8.8", world6 = "2001:db8::8"
    static let host4 = "192.168.0.1", host6 = "fd00:ff::1"
    static let idA = Identity(rawValue: 300), idB = Identity(rawValue: 400), idPod = Identity(rawValue: 500)

    static let ipcache: [IPCacheEntry] = [
        IPCacheEntry(prefix: IPPrefix("10.0.1.0/24")!, identity: idA),
        IPCacheEntry(prefix: IPPrefix("fd00:1::/64")!, identity: idA),
        IPCacheEntry(prefix: IPPrefix("10.0.2.0/24")!, identity: idB),
        IPCacheEntry(prefix: IPPrefix("fd00:2::/64")!, identity: idB),
        IPCacheEntry(prefix: IPPrefix("10.0.0.1/32")!, identity: idPod),
        IPCacheEntry(prefix: IPPrefix("fd00::1/128")!, identity: idPod),
        IPCacheEntry(prefix: IPPrefix("192.168.0.1/32")!, identity: .host),
        IPCacheEntry(prefix: IPPrefix("fd00:ff::1/128")!, identity: .host),
    ]

    /// One endpoint on loopback with the given policies.
    static func state(ingress: DirectionPolicy = DirectionPolicy(), egress: DirectionPolicy = DirectionPolicy())
        -> DesiredState
    {
        DesiredState(
            endpoints: [
                Endpoint(
                    pod: "test/pod", addresses: [IPAddress(pod4)!, IPAddress(pod6)!], identity: idPod, ifindex: 1,
                    ingress: ingress, egress: egress)
            ],
            ipcache: ipcache)
    }
}

extension RuleID: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: UInt32) { self.init(rawValue: value) }
}
