internal import BPFShims

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
/// Thread safety: used only under `Datapath.lock` (inside `program(_:)`).
final class SelectorCache: @unchecked Sendable {
    #if arch(x86_64)
        static let isEnabled = true
    #else
        static let isEnabled = false
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
        var indexes: [UInt32] = []
        var before: [bulwark_selector_bucket] = []
        var after: [bulwark_selector_bucket] = []
        for (index, current) in try map.entries(as: (UInt32.self, bulwark_selector_bucket.self)) {
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
            if !bucket.same(as: current) || current.sequence & 1 != 0 {
                indexes.append(index)
                before.append(current)
                after.append(bucket.raw)
            }
        }
        try write(indexes, before, &after)
    }

    /// Reads buckets, lets `change` edit each, and writes those that changed; `complete` follows `overflow`.
    private func edit(_ indexes: [UInt32], _ change: (UInt32, inout Bucket) -> Void) throws {
        var changed: [UInt32] = []
        var before: [bulwark_selector_bucket] = []
        var after: [bulwark_selector_bucket] = []
        for index in indexes.sorted() {
            let current = try map.lookup(index, as: bulwark_selector_bucket.self) ?? zeroed(bulwark_selector_bucket.self)
            var bucket = Bucket(current)
            change(index, &bucket)
            bucket.fill(from: &overflow[index])
            if overflow[index]?.isEmpty == true { overflow[index] = nil }
            bucket.complete = overflow[index] == nil
            if !bucket.same(as: current) || current.sequence & 1 != 0 {
                changed.append(index)
                before.append(current)
                after.append(bucket.raw)
            }
        }
        try write(changed, before, &after)
    }

    private func write(
        _ indexes: [UInt32], _ before: [bulwark_selector_bucket], _ after: inout [bulwark_selector_bucket]
    ) throws {
        guard !indexes.isEmpty else { return }
        let result = bulwark_selector_buckets_write(map.fd, indexes, before, &after, UInt32(indexes.count))
        try check(result, "write buckets", map: map.name, key: "\(indexes.first!)")
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

    /// Whether writing this bucket would change `current` (sequence aside).
    func same(as current: bulwark_selector_bucket) -> Bool {
        var mine = raw
        var theirs = current
        theirs.sequence = 0
        mine.sequence = 0
        return withUnsafeBytes(of: &mine) { a in withUnsafeBytes(of: &theirs) { b in a.elementsEqual(b) } }
    }
}
