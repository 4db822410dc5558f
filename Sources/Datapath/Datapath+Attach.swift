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
            if try attachedProgramID(program, ifindex: ifindex) == ours { continue }
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
        for program in DatapathProgram.allCases {
            let result = bulwark_tc_detach(
                Int32(ifindex), program.hookIsEgress, Self.filterHandle, Self.filterPriority)
            if result == -ENOENT || result == -ENODEV || result == -EINVAL { continue }
            try check(result, "detach \(program.rawValue) from ifindex \(ifindex)")
            changed = true
        }
        return changed
    }

    /// True when a Bulwark filter (this agent's programs or a predecessor's) sits on both hooks of the interface.
    public func isAttached(ifindex: UInt32) throws -> Bool {
        try DatapathProgram.allCases.allSatisfy { try attachedProgramID($0, ifindex: ifindex) != nil }
    }

    func fileDescriptor(_ program: DatapathProgram) -> Int32 {
        program == .fromContainer ? fromContainerFD : toContainerFD
    }

    private func attachedProgramID(_ program: DatapathProgram, ifindex: UInt32) throws -> UInt32? {
        var id: UInt32 = 0
        let result = bulwark_tc_query(
            Int32(ifindex), program.hookIsEgress, Self.filterHandle, Self.filterPriority, &id)
        if result == -ENOENT || result == -EINVAL { return nil }
        try check(result, "query \(program.rawValue) on ifindex \(ifindex)")
        return id
    }
}
