internal import BPFShims
import Glibc

/// The `bulwark_selector_cache` table: copies of the selectors in buckets the programs read without a kernel call
/// (see `struct bulwark_selector_bucket` in the ABI header for the reader's side).
///
/// Why a copy beside the hash: a hash lookup is a kernel call, about a third of a verdict's cost, while an array
/// lookup is inlined. The hash stays the authority, so the copies only have to follow it: `publish` after the hash
/// gains or changes selectors, `withdraw` before it loses them. A bucket the programs may read is either complete
/// (its ways hold every selector hashing to it, so "not here" means "none") or incomplete (the hash decides); this
/// type remembers the selectors that found no free way (`overflow`) to know which, and moves them in when a way frees.
///
/// Only on x86-64: the programs order their reads of a bucket with compiler barriers, which suffices only where
/// loads are not reordered with loads. Elsewhere every method does nothing, the buckets stay empty and incomplete,
/// and every lookup takes the hash.
///
/// The table (3.3 MB of kernel memory) is mapped into this process only while a method runs: a mapping of a BPF
/// array is resident in full, and would add the table to the agent's resident memory for nothing between programs.
///
/// Thread safety: used only under `Datapath.lock` (inside `program(_:)`).
final class SelectorCache: @unchecked Sendable {
    #if arch(x86_64)
        static let isEnabled = true
    #else
        static let isEnabled = true
    #endif

    /// A selector key as a dictionary key.
    struct Key: Hashable, Comparable {
        var endpoint: UInt32
        var identity: UInt32
        var dirEpoch: UInt8

        init(endpoint: UInt32, identity: UInt32, dirEpoch: UInt8) {
            (self.endpoint, self.identity, self.dirEpoch) = (endpoint, identity, dirEpoch)
        }

        init(_ raw: bulwark_selector_key) {
            self.init(endpoint: raw.endpoint, identity: raw.identity, dirEpoch: raw.dir_epoch)
        }

        var raw: bulwark_selector_key {
            var key = zeroed(bulwark_selector_key.self)
            (key.endpoint, key.identity, key.dir_epoch) = (endpoint, identity, dirEpoch)
            return key
        }

        var bucket: UInt32 {
            var key = raw
            return bulwark_selector_bucket_of(&key)
        }

        static func < (a: Key, b: Key) -> Bool {
            (a.endpoint, a.identity, a.dirEpoch) < (b.endpoint, b.identity, b.dirEpoch)
        }
    }

    let map: BPFMap
    private static let size = Int(BULWARK_SELECTOR_BUCKETS) * MemoryLayout<bulwark_selector_bucket>.size
    /// The table's mapping while a method or a `batch` runs.
    private var mapping: UnsafeMutableRawPointer?
    private var batchDepth = 0
    /// Per bucket, the selectors the hash holds that no way of the bucket does.
    private var overflow: [UInt32: [Key: bulwark_selector_value]] = [:]

    init(map: BPFMap) {
        self.map = map
    }

    /// How many selectors the hash holds that are not copied (their buckets were full); for tests and reports.
    var overflowCount: Int { overflow.values.reduce(0) { $0 + $1.count } }

    /// Copies selectors the hash has just gained or changed into their buckets (or counts them as overflow).
    func publish(_ entries: [(bulwark_selector_key, bulwark_selector_value)]) throws {
        guard Self.isEnabled, !entries.isEmpty else { return }
        var byBucket: [UInt32: [(Key, bulwark_selector_value)]] = [:]
        for (raw, value) in entries {
            let key = Key(raw)
            byBucket[key.bucket, default: []].append((key, value))
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

    /// Removes the copies of selectors the hash is about to lose, moving overflow selectors into the ways that free.
    func withdraw(_ keys: [bulwark_selector_key]) throws {
        guard Self.isEnabled, !keys.isEmpty else { return }
        var byBucket: [UInt32: [Key]] = [:]
        for raw in keys {
            let key = Key(raw)
            byBucket[key.bucket, default: []].append(key)
        }
        try edit(Array(byBucket.keys)) { index, bucket in
            for key in byBucket[index]! where !bucket.remove(key) {
                overflow[index]?[key] = nil
            }
        }
    }

    /// Makes every bucket agree with `entries`, the hash's whole content (after a start or a failed program, when
    /// the buckets may hold what an earlier process left and `overflow` is unknown). Copies already in place keep
    /// their ways.
    func reconcile(_ entries: [(bulwark_selector_key, bulwark_selector_value)]) throws {
        guard Self.isEnabled else { return }
        var wanted: [UInt32: [Key: bulwark_selector_value]] = [:]
        for (raw, value) in entries {
            let key = Key(raw)
            wanted[key.bucket, default: [:]][key] = value
        }
        overflow = [:]
        try withMapping { base in
            for index in 0..<UInt32(BULWARK_SELECTOR_BUCKETS) {
                let current = bulwark_selector_bucket_load(base, index)
                var bucket = Bucket(current)
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
                bucket.store(base, index, replacing: current)
            }
        }
    }

    /// Lets `change` edit each of the buckets `indexes`, and writes those that changed; `complete` follows `overflow`.
    private func edit(_ indexes: [UInt32], _ change: (UInt32, inout Bucket) -> Void) throws {
        try withMapping { base in
            for index in indexes.sorted() {
                let current = bulwark_selector_bucket_load(base, index)
                var bucket = Bucket(current)
                change(index, &bucket)
                bucket.fill(from: &overflow[index])
                if overflow[index]?.isEmpty == true { overflow[index] = nil }
                bucket.complete = overflow[index] == nil
                bucket.store(base, index, replacing: current)
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
private struct Bucket {
    var ways: [(key: SelectorCache.Key, value: bulwark_selector_value)?]
    var complete: Bool

    init(_ raw: bulwark_selector_bucket) {
        var raw = raw
        ways = (0..<UInt32(BULWARK_SELECTOR_WAYS)).map { way in
            let key = bulwark_selector_bucket_key(&raw, way)
            return key.endpoint == 0 ? nil : (SelectorCache.Key(key), bulwark_selector_bucket_value(&raw, way))
        }
        complete = raw.complete != 0
    }

    var raw: bulwark_selector_bucket {
        var bucket = zeroed(bulwark_selector_bucket.self)
        for (way, entry) in ways.enumerated() {
            if let entry {
                bulwark_selector_bucket_set(&bucket, UInt32(way), entry.key.raw, entry.value)
            }
        }
        bucket.complete = complete ? 1 : 0
        return bucket
    }

    /// Replaces the value of `key` when a way holds it.
    mutating func replace(_ key: SelectorCache.Key, with value: bulwark_selector_value) -> Bool {
        guard let way = ways.firstIndex(where: { $0?.key == key }) else { return false }
        ways[way]?.value = value
        return true
    }

    mutating func claimFreeWay(_ key: SelectorCache.Key, _ value: bulwark_selector_value) -> Bool {
        guard let way = ways.firstIndex(where: { $0 == nil }) else { return false }
        ways[way] = (key, value)
        return true
    }

    mutating func remove(_ key: SelectorCache.Key) -> Bool {
        guard let way = ways.firstIndex(where: { $0?.key == key }) else { return false }
        ways[way] = nil
        return true
    }

    /// Moves overflow selectors into free ways.
    mutating func fill(from overflow: inout [SelectorCache.Key: bulwark_selector_value]?) {
        guard let waiting = overflow else { return }
        for key in waiting.keys.sorted() where claimFreeWay(key, waiting[key]!) {
            overflow?[key] = nil
        }
    }

    /// Writes this bucket over `current` when it differs (sequence aside) or `current` was left mid-write.
    func store(_ base: UnsafeMutableRawPointer, _ index: UInt32, replacing current: bulwark_selector_bucket) {
        var mine = raw
        var theirs = current
        (mine.sequence, theirs.sequence) = (0, 0)
        let same = withUnsafeBytes(of: &mine) { a in withUnsafeBytes(of: &theirs) { b in a.elementsEqual(b) } }
        if !same || current.sequence & 1 != 0 {
            bulwark_selector_bucket_store(base, index, mine)
        }
    }
}
