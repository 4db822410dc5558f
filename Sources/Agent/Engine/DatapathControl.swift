import Datapath
import DataplaneModel

/// What the reconciler needs from the datapath; `Datapath` conforms, tests substitute a recording fake.
public protocol DatapathControl: Sendable {
    /// Makes the maps equal to `desired` (hitless), leaving the previous state intact on error; diffs against the
    /// kernel's maps rather than the last write when `rereadingMaps`.
    func program(_ desired: DesiredState, rereadingMaps: Bool) throws -> ProgramReport
    /// Attaches the policy programs to a pod's host-side interface; idempotent.
    @discardableResult func attach(ifindex: UInt32) throws -> Bool
}

extension Datapath: DatapathControl {}
