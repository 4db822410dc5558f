import Glibc

/// Everything that can go wrong in the datapath, naming what failed so an operator can act on it.
public enum DatapathError: Error, Equatable, CustomStringConvertible {
    /// A libbpf or bpf(2) call failed. `map` and `key` are set when the call concerned one map entry.
    case system(operation: String, map: String?, key: String?, errno: Int32)
    /// Applying the desired state would need more entries than `map` holds; nothing was changed.
    case mapFull(map: String, capacity: Int, required: Int)
    /// The pin root is not on a BPF file system, so pins would not survive (or cannot be created).
    case notOnBPFFileSystem(path: String)
    /// The desired state contradicts itself (two endpoints on one interface, one prefix with two identities).
    case invalidDesiredState(String)
    /// The embedded object lacks a program or map the Swift side expects (build mismatch).
    case missingObject(kind: String, name: String)
    /// Maps pinned under `path` have a layout this version cannot reuse (left by another datapath ABI version).
    case incompatiblePins(path: String)

    public var description: String {
        switch self {
        case .system(let operation, let map, let key, let errno):
            var text = operation
            if let map { text += " on map \(map)" }
            if let key { text += " for key \(key)" }
            return text + " failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .mapFull(let map, let capacity, let required):
            return "map \(map) is full: the desired state needs \(required) entries, capacity is \(capacity);"
                + " previous state kept"
        case .notOnBPFFileSystem(let path):
            return "\(path) is not on a BPF file system (mount -t bpf bpf /sys/fs/bpf)"
        case .invalidDesiredState(let reason):
            return "invalid desired state: \(reason)"
        case .missingObject(let kind, let name):
            return "BPF object has no \(kind) named \(name)"
        case .incompatiblePins(let path):
            return "the maps pinned under \(path) were made by a Bulwark version with another datapath layout and"
                + " cannot be reused; remove them with `bulwark cleanup --bpf-root \(path)` (or the cleanup"
                + " DaemonSet), which stops enforcement until the agent starts again"
        }
    }
}

/// The one choke point turning libbpf's negative-errno convention into a Swift error (NIO's `syscall(...)` habit).
@discardableResult
func check(_ result: Int32, _ operation: String, map: String? = nil, key: @autoclosure () -> String? = nil) throws
    -> Int32
{
    guard result < 0 else { return result }
    throw DatapathError.system(operation: operation, map: map, key: key(), errno: -result)
}
