/// How full one BPF map is.
public struct MapUsage: Sendable, Hashable {
    public var map: String
    public var entries: Int
    public var capacity: Int

    public var fillRatio: Double { capacity == 0 ? 0 : Double(entries) / Double(capacity) }
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
}
