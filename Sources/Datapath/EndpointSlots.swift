internal import BPFShims
import DataplaneModel
import Glibc

/// The `bulwark_endpoint_slots` array, mapped into this process: the copy of each endpoint config that the programs
/// read without a hash lookup (see `struct bulwark_endpoint_slot` in the ABI header).
///
/// Why a memory map: a slot must change with one atomic 8-byte store, so a packet reads a whole config, old or new;
/// a map update syscall copies values with `memcpy`, which promises no such thing. The `bulwark_endpoints` hash stays
/// the authority: a slot is only used by the interface it names, so a free, foreign or colliding slot costs a hash
/// lookup, never a wrong config. Slot stores are memory writes, not map operations, and are not counted as such.
final class EndpointSlots: @unchecked Sendable {
    static let count = Int(BULWARK_ENDPOINT_SLOTS)
    private let base: UnsafeMutableRawPointer
    private let size = EndpointSlots.count * MemoryLayout<bulwark_endpoint_slot>.size

    init(map: BPFMap) throws {
        guard let base = bulwark_map_mmap(map.fd, size) else {
            throw DatapathError.system(operation: "mmap", map: map.name, key: nil, errno: errno)
        }
        self.base = base
    }

    deinit { _ = bulwark_map_munmap(base, size) }

    private static func index(_ ifindex: UInt32) -> UInt32 { ifindex % UInt32(count) }

    /// What the slot `ifindex` maps to holds: its owner (0 when free) and the owner's isolation.
    func slot(for ifindex: UInt32) -> (owner: UInt32, ingress: Isolation?, egress: Isolation?) {
        let slot = load(ifindex)
        return (slot.ifindex, Isolation(rawValue: slot.ingress_isolation), Isolation(rawValue: slot.egress_isolation))
    }

    /// Copies endpoint configs into their slots where the slot is free or already theirs (a slot owned by another
    /// live endpoint stays with it; the newcomer is read from the hash). Call after the hash holds the same configs.
    func publish(_ configs: [(UInt32, EndpointConfig)]) {
        for (ifindex, config) in configs {
            let current = load(ifindex)
            let wanted = Self.slot(ifindex, config)
            if (current.ifindex == 0 || current.ifindex == ifindex) && !Self.same(current, wanted) {
                bulwark_endpoint_slot_store(base, Self.index(ifindex), wanted)
            }
        }
    }

    /// Frees the slots the given endpoints own. Call before their hash entries go, so a packet never finds a slot
    /// whose config the hash no longer has.
    func withdraw(_ ifindexes: [UInt32]) {
        for ifindex in ifindexes where load(ifindex).ifindex == ifindex {
            bulwark_endpoint_slot_store(base, Self.index(ifindex), bulwark_endpoint_slot())
        }
    }

    /// Makes the slots agree with the hash's `endpoints`: frees slots whose owner is no endpoint (left by a crash or
    /// an edit from outside), then publishes every endpoint (claiming slots that collisions left free).
    /// - Parameter scanAll: also look for stale owners (reads every slot, ~0.5 MiB); without it, only endpoints'
    ///   own slots are visited.
    func reconcile(_ endpoints: [UInt32: EndpointConfig], scanAll: Bool) {
        if scanAll {
            for index in 0..<UInt32(Self.count) {
                let owner = bulwark_endpoint_slot_load(base, index).ifindex
                if owner != 0 && (endpoints[owner] == nil || Self.index(owner) != index) {
                    bulwark_endpoint_slot_store(base, index, bulwark_endpoint_slot())
                }
            }
        }
        publish(endpoints.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    private func load(_ ifindex: UInt32) -> bulwark_endpoint_slot {
        bulwark_endpoint_slot_load(base, Self.index(ifindex))
    }

    private static func slot(_ ifindex: UInt32, _ config: EndpointConfig) -> bulwark_endpoint_slot {
        bulwark_endpoint_slot(
            ifindex: ifindex, ingress_isolation: config.ingress.rawValue, egress_isolation: config.egress.rawValue,
            policy_epoch: config.epoch, flags: config.flags)
    }

    private static func same(_ a: bulwark_endpoint_slot, _ b: bulwark_endpoint_slot) -> Bool {
        a.ifindex == b.ifindex && a.ingress_isolation == b.ingress_isolation
            && a.egress_isolation == b.egress_isolation && a.policy_epoch == b.policy_epoch && a.flags == b.flags
    }
}
