import DataplaneModel

/// How a `ProgramPlan`'s policy changes land in the two policy maps: which sets to add (content-addressed, shared),
/// which selectors to write and delete, and which sets become unused.
struct PolicyLayout {
    /// Per endpoint change (same order as `ProgramPlan.endpointChanges`).
    struct Selection {
        var stale: [SelectorKey]
        var writes: [SelectorKey: UInt32]
    }

    var newSets: [UInt32: PortSet] = [:]
    var selections: [Selection] = []
    var finalSelectorDeletions: [SelectorKey] = []
    var unusedSetKeys: [(set: UInt32, key: PortKey)] = []

    init(plan: ProgramPlan, current: MapState) {
        var ids: [PortSet: UInt32] = [:]
        for (set, content) in current.sets where ids[content].map({ set < $0 }) ?? true { ids[content] = set }
        var next = (current.sets.keys.max() ?? 0) + 1
        var remaining = current.selectors
        for change in plan.endpointChanges {
            var contents: [SelectorKey: PortSet] = [:]
            for (key, value) in change.newKeys { contents[key.selector, default: [:]][key.portKey] = value }
            var selection = Selection(stale: Array(Set(change.staleKeys.map(\.selector))), writes: [:])
            for (selector, content) in contents {
                if let id = ids[content] {
                    selection.writes[selector] = id
                } else {
                    ids[content] = next
                    newSets[next] = content
                    selection.writes[selector] = next
                    next += 1
                }
            }
            for selector in selection.stale { remaining[selector] = nil }
            remaining.merge(selection.writes) { _, new in new }
            selections.append(selection)
        }
        finalSelectorDeletions = Array(Set(plan.finalDeletions.map(\.selector)).union(current.danglingSelectors))
        for selector in finalSelectorDeletions { remaining[selector] = nil }
        let used = Set(remaining.values)
        for (set, content) in current.sets where !used.contains(set) {
            unusedSetKeys += content.keys.map { (set, $0) }
        }
    }

    /// Refuses to start when the selector or policy map would overflow at its peak (both generations present).
    func checkCapacity(selectors: BPFMap, policy: BPFMap, current: MapState) throws {
        var count = current.selectors.count
        var peak = count
        for selection in selections {
            count += selection.writes.count - selection.stale.count
            peak = max(peak, count)
        }
        if peak > selectors.capacity {
            throw DatapathError.mapFull(map: selectors.name, capacity: selectors.capacity, required: peak)
        }
        let keys = current.policyKeyCount + newSets.values.reduce(0) { $0 + $1.count }
        if keys > policy.capacity {
            throw DatapathError.mapFull(map: policy.name, capacity: policy.capacity, required: keys)
        }
    }
}
