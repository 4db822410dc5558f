internal import BPFShims
internal import CLibbpf
import DataplaneModel
import Foundation
import Glibc

/// The node's eBPF policy datapath: the programs on pod veths and the pinned maps they read.
///
/// Why one object: it is the only libbpf user, so every unsafe call, every pin and every errno conversion lives here.
/// Maps are pinned by name under `pinRoot` and reused when present, so a restarted agent opens the same maps the
/// attached programs are using: enforcement never stops while the agent is down, and `program(_:)` diffs against
/// what the kernel holds rather than against memory.
///
/// Thread safety: methods may be called from any thread; `program(_:)`, `attach` and `detach` are serialised.
public final class Datapath: @unchecked Sendable {
    /// Where maps and programs are pinned unless configured otherwise.
    public static let defaultPinRoot = "/sys/fs/bpf/bulwark"

    /// The TC filter handle and priority Bulwark owns on every pod veth (fixed, so attach replaces in place).
    static let filterHandle: UInt32 = 0xB17
    static let filterPriority: UInt32 = 1

    public let pinRoot: String
    private let object: OpaquePointer
    let endpoints: BPFMap
    let endpointSlots: EndpointSlots
    let ipcache: BPFMap
    let addressCache: AddressCache
    let selectors: BPFMap
    let selectorCache: SelectorCache
    let policy: BPFMap
    let policyExact: BPFMap
    let conntrack: BPFMap
    let fragments: BPFMap
    let counterMap: BPFMap
    let slotCounters: BPFMap
    let ruleSlotMap: BPFMap
    let stats: BPFMap
    let eventRing: BPFMap
    let fromContainerFD: Int32
    let toContainerFD: Int32
    let lock = NSLock()
    /// What the last successful `program(_:)` left in the maps; guarded by `lock` (see `program(_:rereadingMaps:)`).
    var memo: Memo?
    /// Folded selections per endpoint direction from the last program; guarded by `lock`.
    var folds: ProgramPlan.FoldMemo = [:]
    /// The next policy set sequence number (the id above the shape bits, see `SetShape`); never reused within this
    /// process, so `folds` cannot name a set whose content changed.
    var nextSetID: UInt32 = 1
    /// The counter slots `bulwark_rule_slots` holds; guarded by `lock` (see `writeSets`).
    var ruleSlots: RuleSlots

    /// Loads the embedded programs, reusing (or creating) the maps pinned under `pinRoot`, and pins the programs.
    ///
    /// - Parameter pinRoot: a directory on a BPF file system; created when missing. Tests use a unique one each.
    /// - Throws: `DatapathError.notOnBPFFileSystem` when `pinRoot` cannot hold pins; `.incompatiblePins` when maps
    ///   pinned there by another datapath version cannot be reused; `.system` when loading fails otherwise.
    public init(pinRoot: String = Datapath.defaultPinRoot) throws {
        try Self.prepare(pinRoot: pinRoot)
        bulwark_libbpf_install_logger()
        self.pinRoot = pinRoot
        let bytes = BPFObject.bytes
        guard
            let object = bytes.withUnsafeBytes({ bulwark_object_open_mem($0.baseAddress, $0.count, "bulwark", pinRoot) }
            )
        else {
            throw DatapathError.system(operation: "open BPF object", map: nil, key: nil, errno: errno)
        }
        let loaded = bpf_object__load(object)
        if loaded < 0 {
            bpf_object__close(object)
            // libbpf refuses to reuse a pinned map whose definition differs (EINVAL): the pins are another version's.
            if loaded == -EINVAL, Self.holdsPins(pinRoot) { throw DatapathError.incompatiblePins(path: pinRoot) }
            try check(loaded, "load BPF object (pin root \(pinRoot))")
        }
        self.object = object
        do {
            endpoints = try BPFMap(object: object, name: "bulwark_endpoints")
            endpointSlots = try EndpointSlots(map: try BPFMap(object: object, name: "bulwark_endpoint_slots"))
            ipcache = try BPFMap(object: object, name: "bulwark_ipcache")
            addressCache = AddressCache(map: try BPFMap(object: object, name: "bulwark_address_cache"))
            selectors = try BPFMap(object: object, name: "bulwark_selectors")
            selectorCache = SelectorCache(map: try BPFMap(object: object, name: "bulwark_selector_cache"))
            policy = try BPFMap(object: object, name: "bulwark_policy")
            policyExact = try BPFMap(object: object, name: "bulwark_policy_exact")
            conntrack = try BPFMap(object: object, name: "bulwark_conntrack")
            fragments = try BPFMap(object: object, name: "bulwark_fragments")
            counterMap = try BPFMap(object: object, name: "bulwark_counters")
            slotCounters = try BPFMap(object: object, name: "bulwark_slot_counters")
            ruleSlotMap = try BPFMap(object: object, name: "bulwark_rule_slots")
            ruleSlots = try RuleSlots(reading: ruleSlotMap)
            stats = try BPFMap(object: object, name: "bulwark_stats")
            eventRing = try BPFMap(object: object, name: "bulwark_events")
            fromContainerFD = try Self.pinProgram(object, "from_container", root: pinRoot)
            toContainerFD = try Self.pinProgram(object, "to_container", root: pinRoot)
        } catch {
            bpf_object__close(object)
            throw error
        }
    }

    deinit {
        // Closing drops only our file descriptors: pins and attached filters keep programs and maps alive.
        bpf_object__close(object)
    }

    /// Mounts the BPF file system at `path` when nothing is mounted there yet (what the agent does at start-up,
    /// like Cilium, since pins on any other file system would silently fail).
    public static func mountBPFFileSystem(at path: String = "/sys/fs/bpf") throws {
        if isBPFFileSystem(path) { return }
        guard mount("bpf", path, "bpf", 0, nil) == 0 else {
            throw DatapathError.system(operation: "mount bpf at \(path)", map: nil, key: nil, errno: errno)
        }
    }

    /// Removes every pin under `pinRoot` and the directory itself: maps and programs go away once no attached
    /// filter uses them. For uninstalling and for tests; a running datapath keeps working on its descriptors.
    public static func removePins(at pinRoot: String) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pinRoot)) ?? []
        for name in names where unlink(pinRoot + "/" + name) != 0 && errno != ENOENT {
            throw DatapathError.system(operation: "unlink \(pinRoot)/\(name)", map: nil, key: nil, errno: errno)
        }
        if rmdir(pinRoot) != 0 && errno != ENOENT {
            throw DatapathError.system(operation: "rmdir \(pinRoot)", map: nil, key: nil, errno: errno)
        }
    }

    private static func prepare(pinRoot: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: pinRoot, withIntermediateDirectories: true)
        } catch {
            throw DatapathError.notOnBPFFileSystem(path: pinRoot)
        }
        guard isBPFFileSystem(pinRoot) else { throw DatapathError.notOnBPFFileSystem(path: pinRoot) }
    }

    private static func holdsPins(_ pinRoot: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pinRoot)) ?? []
        return names.contains { $0.hasPrefix("bulwark_") }
    }

    private static func isBPFFileSystem(_ path: String) -> Bool {
        bulwark_is_bpffs(path) != 0
    }

    /// Pins a program at `<root>/<name>` (replacing the pin of a previous agent) so `bpftool` and operators can
    /// find what is attached; returns its file descriptor.
    private static func pinProgram(_ object: OpaquePointer, _ name: String, root: String) throws -> Int32 {
        guard let program = bpf_object__find_program_by_name(object, name) else {
            throw DatapathError.missingObject(kind: "program", name: name)
        }
        let path = root + "/" + name
        if unlink(path) != 0 && errno != ENOENT {
            throw DatapathError.system(operation: "unpin \(path)", map: nil, key: nil, errno: errno)
        }
        try check(bpf_program__pin(program, path), "pin program \(name) at \(path)")
        return bpf_program__fd(program)
    }
}
