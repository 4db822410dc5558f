internal import BPFShims
import DataplaneModel

/// How a `ProgramPlan`'s policy changes land in the policy maps: which sets to add (content-addressed, shared),
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
    private let currentSets: [UInt32: PortSet]

    init(plan: ProgramPlan, current: MapState) {
        currentSets = current.sets
        var ids: [PortSet: UInt32] = [:]
        // A set is reused only when its id's shape matches its content (a set left by an older layout is not).
        for (set, content) in current.sets
        where set & SetShape.mask == SetShape.of(content) && ids[content].map({ set < $0 }) ?? true {
            ids[content] = set
        }
        var next = (current.sets.keys.map { $0 >> SetShape.bits }.max() ?? 0) + 1
        var remaining = current.selectors
        for change in plan.endpointChanges {
            var contents: [SelectorKey: PortSet] = [:]
            for (key, value) in change.newKeys { contents[key.selector, default: [:]][key.portKey] = value }
            var selection = Selection(stale: Array(Set(change.staleKeys.map(\.selector))), writes: [:])
            for (selector, content) in contents {
                if let id = ids[content] {
                    selection.writes[selector] = id
                } else {
                    let id = next << SetShape.bits | SetShape.of(content)
                    ids[content] = id
                    newSets[id] = content
                    selection.writes[selector] = id
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

    /// The selector map value for a selector choosing `set` (which must be a current or a new set).
    func selectorValue(_ set: UInt32, slots: RuleSlots) -> bulwark_selector_value {
        bulwark_selector_value(set: set, content: newSets[set] ?? currentSets[set], slots: slots)
    }

    /// Refuses to start when the selector or a policy map would overflow at its peak (both generations present).
    func checkCapacity(selectors: BPFMap, policy: BPFMap, policyExact: BPFMap, current: MapState) throws {
        var count = current.selectors.count
        var peak = count
        for selection in selections {
            count += selection.writes.count - selection.stale.count
            peak = max(peak, count)
        }
        if peak > selectors.capacity {
            throw DatapathError.mapFull(map: selectors.name, capacity: selectors.capacity, required: peak)
        }
        var keys = (ranged: 0, exact: 0)
        for sets in [current.sets, newSets] {
            for (set, content) in sets {
                if SetShape.isRanged(set) { keys.ranged += content.count } else { keys.exact += content.count }
            }
        }
        for (map, required) in [(policy, keys.ranged), (policyExact, keys.exact)] where required > map.capacity {
            throw DatapathError.mapFull(map: map.name, capacity: map.capacity, required: required)
        }
    }
}
