import DataplaneModel

/// The ipcache as a sorted array kept up to date in place, so publishing it after a small change costs a binary
/// search and a copy, not a sort of every pod address in the cluster.
struct SortedIPCache: Sendable {
    private(set) var entries: [IPCacheEntry] = []

    /// Sets or (with nil) removes the entry for each prefix of `updates`.
    ///
    /// Why a batch: inserting in place shifts the tail of the array, so thousands of inserts (a full compile, a
    /// namespace of pods) would be quadratic; past a few dozen updates one sorted merge is cheaper.
    mutating func apply(_ updates: [IPPrefix: Identity?]) {
        guard updates.count > 32 else {
            for (prefix, identity) in updates { set(prefix, identity) }
            return
        }
        let sorted = updates.sorted { $0.key < $1.key }
        var merged: [IPCacheEntry] = []
        merged.reserveCapacity(entries.count + sorted.count)
        var index = 0
        for (prefix, identity) in sorted {
            while index < entries.count && entries[index].prefix < prefix {
                merged.append(entries[index])
                index += 1
            }
            if index < entries.count && entries[index].prefix == prefix { index += 1 }
            if let identity { merged.append(IPCacheEntry(prefix: prefix, identity: identity)) }
        }
        merged += entries[index...]
        entries = merged
    }

    /// Sets or (with nil) removes the entry for `prefix`.
    mutating func set(_ prefix: IPPrefix, _ identity: Identity?) {
        let index = position(of: prefix)
        let present = index < entries.count && entries[index].prefix == prefix
        switch (identity, present) {
        case (let identity?, true):
            if entries[index].identity != identity { entries[index].identity = identity }
        case (let identity?, false): entries.insert(IPCacheEntry(prefix: prefix, identity: identity), at: index)
        case (nil, true): entries.remove(at: index)
        case (nil, false): break
        }
    }

    private func position(of prefix: IPPrefix) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].prefix < prefix { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
