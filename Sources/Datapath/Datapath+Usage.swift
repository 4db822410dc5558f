/// How full one BPF map is.
public struct MapUsage: Sendable, Hashable {
    public var map: String
    public var entries: Int
    public var capacity: Int

    public var fillRatio: Double { capacity == 0 ? 0 : Double(entries) / Double(capacity) }
}

/// Entries one inlined copy table could not hold (see `CopyTable`).
public struct CopyTableOverflow: Sendable, Hashable {
    /// `selectors` (the selector copies) or `addresses` (the ipcache's pod addresses).
    public var table: String
    public var entries: Int
}

extension Datapath {
    /// Entry counts of the maps that can fill up, read from the kernel (for `bulwark_map_fill_ratio`).
    ///
    /// Why count rather than remember: the conntrack and fragment maps are filled by the programs themselves, and
    /// counting the others the same way reports what the kernel holds, also right after a restart.
    /// Cost: one key walk per map, so call it at scrape time, not per packet or per reconcile.
    public func usage() throws -> [MapUsage] {
        try [endpoints, ipcache, selectors, policy, policyExact, conntrack, fragments].map { map in
            MapUsage(map: map.name, entries: try map.count(), capacity: map.capacity)
        }
    }

    /// The selectors and pod addresses that found no free way in their bucket of the inlined copy tables, as of the
    /// last program.
    ///
    /// Why report them: packets to and from these entries are judged through the selector hash or the ipcache trie
    /// (a kernel call each, tens of nanoseconds) until a way frees, so a count that stays above zero means this node's
    /// selectors or the cluster's pods have outgrown the buckets. Known only once this process has programmed.
    public func copyTableOverflow() -> [CopyTableOverflow] {
        lock.withLock {
            [
                CopyTableOverflow(table: "selectors", entries: selectorCache.overflowCount),
                CopyTableOverflow(table: "addresses", entries: addressCache.overflowCount),
            ]
        }
    }
}
