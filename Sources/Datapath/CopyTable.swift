internal import BPFShims
import Glibc

/// How one copy table's buckets look: `CopyTable` does the bookkeeping, a layout converts between its Swift keys and
/// values and the ABI header's bucket struct.
protocol CopyLayout: SendableMetatype {
    associatedtype Key: Hashable & Comparable
    associatedtype Value
    /// The ABI header's bucket struct (`sequence` first, then the ways).
    associatedtype Bucket
    static var bucketCount: Int { get }
    static func bucket(of key: Key) -> UInt32
    static func load(_ base: UnsafeMutableRawPointer, _ index: UInt32) -> Bucket
    /// Writes a bucket like a seqcount writer (see `bulwark_selector_bucket_store`).
    static func store(_ base: UnsafeMutableRawPointer, _ index: UInt32, _ bucket: Bucket)
    static func sequence(of bucket: Bucket) -> UInt32
    static func ways(of bucket: Bucket) -> (ways: [(key: Key, value: Value)?], complete: Bool)
    /// A bucket with these ways and sequence 0; `complete` is dropped by layouts whose buckets do not carry it.
    static func bucket(ways: [(key: Key, value: Value)?], complete: Bool) -> Bucket
}

/// A table of copies of a hash or trie's entries, in buckets of four ways the programs read without a kernel call
/// (see `struct bulwark_selector_bucket` and `struct bulwark_address_bucket` in the ABI header for the readers).
///
/// Why copies beside the map: a hash or trie lookup is a kernel call (a hash hit is about a third of a verdict's
/// cost; a trie's cost grows with its prefixes), while an array lookup is inlined. The map stays the authority, so
/// the copies only have to follow it: `publish` after the map gains or changes entries, `withdraw` before it loses
/// them. A bucket is complete when its ways hold every entry hashing to it; this type remembers the entries that
/// found no free way (`overflow`) to know which, and moves them in when a way frees. (Selector buckets publish
/// completeness, so a miss in a complete bucket answers "none"; address buckets do not, a miss always asks the trie.)
///
/// Only on x86-64: the programs order their reads of a bucket with compiler barriers, which suffices only where
/// loads are not reordered with loads. Elsewhere every method does nothing, the buckets stay empty (and selector
/// buckets incomplete), and every lookup takes the map.
///
/// A table (megabytes of kernel memory) is mapped into this process only while a method or `batch` runs: a mapping
/// of a BPF array is resident in full, and would add the table to the agent's resident memory between programs.
///
/// Thread safety: used only under `Datapath.lock` (inside `program(_:)`).
final class CopyTable<Layout: CopyLayout>: @unchecked Sendable {
    #if arch(x86_64)
        static var isEnabled: Bool { true }
    #else
        static var isEnabled: Bool { false }
    #endif

    typealias Key = Layout.Key
    typealias Value = Layout.Value

    let map: BPFMap
    private static var size: Int { Layout.bucketCount * MemoryLayout<Layout.Bucket>.stride }
    /// The table's mapping while a method or a `batch` runs.
    private var mapping: UnsafeMutableRawPointer?
    private var batchDepth = 0
    /// Per bucket, the entries the map holds that no way of the bucket does.
    private var overflow: [UInt32: [Key: Value]] = [:]

    init(map: BPFMap) {
        self.map = map
    }

    /// How many entries the map holds that are not copied (their buckets were full).
    var overflowCount: Int { overflow.values.reduce(0) { $0 + $1.count } }

    /// Copies entries the map has just gained or changed into their buckets (or counts them as overflow).
    func publish(_ entries: [(Key, Value)]) throws {
        guard Self.isEnabled, !entries.isEmpty else { return }
        var byBucket: [UInt32: [(Key, Value)]] = [:]
        for (key, value) in entries {
            byBucket[Layout.bucket(of: key), default: []].append((key, value))
        }
        try edit(Array(byBucket.keys)) { index, bucket in
            for (key, value) in byBucket[index]! where !bucket.replace(key, with: value) {
                if bucket.claimFreeWay(key, value) {
                    overflow[index]?[key] = nil
                } else {
                    overflow[index, default: [:]][key] = value
                }
            }
        }
    }

    /// Removes the copies of entries the map is about to lose, moving overflow entries into the ways that free.
    func withdraw(_ keys: [Key]) throws {
        guard Self.isEnabled, !keys.isEmpty else { return }
        var byBucket: [UInt32: [Key]] = [:]
        for key in keys {
            byBucket[Layout.bucket(of: key), default: []].append(key)
        }
        try edit(Array(byBucket.keys)) { index, bucket in
            for key in byBucket[index]! where !bucket.remove(key) {
                overflow[index]?[key] = nil
            }
        }
    }

    /// Makes every bucket agree with `entries`, the map's whole content (after a start or a failed program, when
    /// the buckets may hold what an earlier process left and `overflow` is unknown). Copies already in place keep
    /// their ways.
    func reconcile(_ entries: [(Key, Value)]) throws {
        guard Self.isEnabled else { return }
        var wanted: [UInt32: [Key: Value]] = [:]
        for (key, value) in entries {
            wanted[Layout.bucket(of: key), default: [:]][key] = value
        }
        overflow = [:]
        try withMapping { base in
            for index in 0..<UInt32(Layout.bucketCount) {
                let current = Layout.load(base, index)
                let before = Ways(current)
                var bucket = before
                var remaining = wanted[index] ?? [:]
                for way in bucket.ways.indices {
                    guard let key = bucket.ways[way]?.key else { continue }
                    if let value = remaining.removeValue(forKey: key) {
                        bucket.ways[way]?.value = value
                    } else {
                        bucket.ways[way] = nil
                    }
                }
                for key in remaining.keys.sorted() where bucket.claimFreeWay(key, remaining[key]!) {
                    remaining[key] = nil
                }
                if !remaining.isEmpty { overflow[index] = remaining }
                bucket.complete = remaining.isEmpty
                bucket.store(base, index, replacing: before, sequence: Layout.sequence(of: current))
            }
        }
    }

    private typealias Ways = BucketWays<Layout>

    /// Lets `change` edit each of the buckets `indexes`, and writes those that changed; `complete` follows `overflow`.
    private func edit(_ indexes: [UInt32], _ change: (UInt32, inout Ways) -> Void) throws {
        try withMapping { base in
            for index in indexes.sorted() {
                let current = Layout.load(base, index)
                let before = Ways(current)
                var bucket = before
                change(index, &bucket)
                bucket.fill(from: &overflow[index])
                if overflow[index]?.isEmpty == true { overflow[index] = nil }
                bucket.complete = overflow[index] == nil
                bucket.store(base, index, replacing: before, sequence: Layout.sequence(of: current))
            }
        }
    }

    /// Keeps the table mapped across the calls `body` makes: one mapping per program rather than one per call (a
    /// mapping costs ~0.3 ms, since the kernel maps every page of the table at once).
    func batch<T>(_ body: () throws -> T) throws -> T {
        batchDepth += 1
        defer {
            batchDepth -= 1
            if batchDepth == 0 { unmap() }
        }
        return try body()
    }

    private func withMapping(_ body: (UnsafeMutableRawPointer) throws -> Void) throws {
        if mapping == nil {
            guard let base = bulwark_map_mmap(map.fd, Self.size) else {
                throw DatapathError.system(operation: "mmap", map: map.name, key: nil, errno: errno)
            }
            mapping = base
        }
        defer { if batchDepth == 0 { unmap() } }
        try body(mapping!)
    }

    private func unmap() {
        if let mapping { _ = bulwark_map_munmap(mapping, Self.size) }
        mapping = nil
    }
}

/// One bucket's ways and completeness, in Swift form.
struct BucketWays<Layout: CopyLayout> {
    typealias Key = Layout.Key
    typealias Value = Layout.Value
    var ways: [(key: Key, value: Value)?]
    var complete: Bool

    init(_ raw: Layout.Bucket) {
        (ways, complete) = Layout.ways(of: raw)
    }

    /// Replaces the value of `key` when a way holds it.
    mutating func replace(_ key: Key, with value: Value) -> Bool {
        guard let way = ways.firstIndex(where: { $0?.key == key }) else { return false }
        ways[way]?.value = value
        return true
    }

    mutating func claimFreeWay(_ key: Key, _ value: Value) -> Bool {
        guard let way = ways.firstIndex(where: { $0 == nil }) else { return false }
        ways[way] = (key, value)
        return true
    }

    mutating func remove(_ key: Key) -> Bool {
        guard let way = ways.firstIndex(where: { $0?.key == key }) else { return false }
        ways[way] = nil
        return true
    }

    /// Moves overflow entries into free ways.
    mutating func fill(from overflow: inout [Key: Value]?) {
        guard let waiting = overflow else { return }
        for key in waiting.keys.sorted() where claimFreeWay(key, waiting[key]!) {
            overflow?[key] = nil
        }
    }

    /// Writes this bucket over `current` (what the bucket held, read with `sequence`) when it differs or the
    /// bucket was left mid-write (odd `sequence`).
    func store(_ base: UnsafeMutableRawPointer, _ index: UInt32, replacing current: BucketWays, sequence: UInt32) {
        var mine = Layout.bucket(ways: ways, complete: complete)
        var theirs = Layout.bucket(ways: current.ways, complete: current.complete)
        let same = withUnsafeBytes(of: &mine) { a in withUnsafeBytes(of: &theirs) { b in a.elementsEqual(b) } }
        if !same || sequence & 1 != 0 {
            Layout.store(base, index, mine)
        }
    }
}
