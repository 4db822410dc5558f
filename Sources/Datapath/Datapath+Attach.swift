internal import BPFShims
import Glibc

/// The two policy programs, named from the pod's point of view.
public enum DatapathProgram: String, Sendable, CaseIterable {
    /// On the host veth's TC ingress: packets leaving the pod, judged by its egress policy.
    case fromContainer = "from_container"
    /// On the host veth's TC egress: packets entering the pod, judged by its ingress policy.
    case toContainer = "to_container"

    /// 1 when the program sits on the host veth's TC egress hook.
    var hookIsEgress: Int32 { self == .toContainer ? 1 : 0 }
}

extension Datapath {
    /// Attaches both programs to a pod's host-side veth, replacing older Bulwark programs atomically.
    ///
    /// Idempotent: when this datapath's programs are already attached nothing changes. Uses a fixed TC handle and
    /// priority, so a restarted agent replaces its predecessor's filter in place (no instant without a program).
    /// - Returns: whether a filter was created or replaced.
    @discardableResult
    public func attach(ifindex: UInt32) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var changed = false
        for program in DatapathProgram.allCases {
            let fd = fileDescriptor(program)
            var ours: UInt32 = 0
            try check(bulwark_prog_id(fd, &ours), "read id of program \(program.rawValue)")
            if try Self.attachedProgramID(program, ifindex: ifindex) == ours { continue }
            try check(
                bulwark_tc_attach(Int32(ifindex), program.hookIsEgress, fd, Self.filterHandle, Self.filterPriority),
                "attach \(program.rawValue) to ifindex \(ifindex)")
            changed = true
        }
        return changed
    }

    /// Detaches both programs from an interface. Idempotent: a missing filter or interface is not an error.
    /// - Returns: whether a filter was removed.
    @discardableResult
    public func detach(ifindex: UInt32) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var changed = false
        for program in DatapathProgram.allCases where try Self.detachFilter(program, ifindex: ifindex) {
            changed = true
        }
        return changed
    }

    /// True when filters on both hooks of the interface run programs of this datapath's pin root: its own, or a
    /// predecessor's that reads the same pinned maps (what a restarted agent adopts).
    public func isAttached(ifindex: UInt32) throws -> Bool {
        guard let maps = try Self.pinnedEndpointMapID(pinRoot) else { return false }
        return try DatapathProgram.allCases.allSatisfy { try Self.ownedFilter($0, ifindex: ifindex, mapID: maps) }
    }

    /// Detaches Bulwark's filters from the given interfaces: those whose programs read the maps pinned under
    /// `pinRoot` (any agent version that used them), or, with `everyOwner`, any filter at Bulwark's TC handle and
    /// priority (for programs whose pins were removed). Another pin root's filters are left alone, so cleaning up one
    /// datapath never unprotects the pods of another (a second agent, a test, a benchmark).
    ///
    /// Static, loading nothing: it works on pins that this version cannot load (`DatapathError.incompatiblePins`).
    /// - Returns: how many interfaces lost a filter.
    public static func detachFilters(ownedBy pinRoot: String, from ifindexes: [UInt32], everyOwner: Bool = false)
        throws -> Int
    {
        bulwark_libbpf_install_logger()  // no kernel notes for interfaces without a clsact qdisc (nothing attached)
        let maps = try pinnedEndpointMapID(pinRoot)
        if maps == nil && !everyOwner { return 0 }
        var detached = 0
        for ifindex in ifindexes {
            var changed = false
            for program in DatapathProgram.allCases {
                let ours = try everyOwner ? attachedProgramID(program, ifindex: ifindex) != nil
                    : ownedFilter(program, ifindex: ifindex, mapID: maps ?? 0)
                if ours, try detachFilter(program, ifindex: ifindex) { changed = true }
            }
            if changed { detached += 1 }
        }
        return detached
    }

    /// Removes the filter at Bulwark's handle on the program's hook; false when there was none (or no interface).
    private static func detachFilter(_ program: DatapathProgram, ifindex: UInt32) throws -> Bool {
        let result = bulwark_tc_detach(Int32(ifindex), program.hookIsEgress, filterHandle, filterPriority)
        if result == -ENOENT || result == -ENODEV || result == -EINVAL { return false }
        try check(result, "detach \(program.rawValue) from ifindex \(ifindex)")
        return true
    }

    /// The id of the endpoint map pinned under `pinRoot` (every Bulwark program reads it), nil when none is pinned.
    private static func pinnedEndpointMapID(_ pinRoot: String) throws -> UInt32? {
        var id: UInt32 = 0
        let result = bulwark_pinned_map_id(pinRoot + "/bulwark_endpoints", &id)
        if result == -ENOENT { return nil }
        try check(result, "read id of the map pinned at \(pinRoot)/bulwark_endpoints")
        return id
    }

    /// True when the filter on the program's hook runs a program that reads map `mapID`.
    private static func ownedFilter(_ program: DatapathProgram, ifindex: UInt32, mapID: UInt32) throws -> Bool {
        guard let id = try attachedProgramID(program, ifindex: ifindex) else { return false }
        let result = bulwark_prog_uses_map(id, mapID)
        if result == -ENOENT { return false }  // replaced or detached meanwhile
        try check(result, "read the maps of program \(id) on ifindex \(ifindex)")
        return result == 1
    }

    func fileDescriptor(_ program: DatapathProgram) -> Int32 {
        program == .fromContainer ? fromContainerFD : toContainerFD
    }

    private static func attachedProgramID(_ program: DatapathProgram, ifindex: UInt32) throws -> UInt32? {
        var id: UInt32 = 0
        let result = bulwark_tc_query(
            Int32(ifindex), program.hookIsEgress, Self.filterHandle, Self.filterPriority, &id)
        if result == -ENOENT || result == -EINVAL { return nil }
        try check(result, "query \(program.rawValue) on ifindex \(ifindex)")
        return id
    }
}
