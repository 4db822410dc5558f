import DataplaneModel

/// The ipcache as a sorted array kept up to date in place, so publishing it after a small change costs a binary
/// search and a copy, not a sort of every pod address in the cluster.
struct SortedIPCache: Sendable {
    private(set) var entries: [IPCacheEntry] = []

    subscript(prefix: IPPrefix) -> Identity? {
        let index = position(of: prefix)
        return index < entries.count && entries[index].prefix == prefix ? entries[index].identity : nil
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
