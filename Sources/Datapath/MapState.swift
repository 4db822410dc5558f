internal import BPFShims
import DataplaneModel

/// One selector of a generation: the policy set an endpoint applies to one remote identity.
struct Selection: Hashable, Comparable {
    var identity: UInt32
    var set: UInt32

    static func < (a: Selection, b: Selection) -> Bool { (a.identity, a.set) < (b.identity, b.set) }
}

/// One endpoint's selectors of one epoch, per direction, sorted by identity (so two generations compare as arrays,
/// without hashing, and the any-identity selector, identity 0, comes first).
struct Generation: Equatable {
    var ingress: [Selection] = []
    var egress: [Selection] = []

    subscript(direction: Direction) -> [Selection] {
        get { direction == .ingress ? ingress : egress }
        set { if direction == .ingress { ingress = newValue } else { egress = newValue } }
    }

    var count: Int { ingress.count + egress.count }
    var isEmpty: Bool { ingress.isEmpty && egress.isEmpty }

    /// The selector map keys of this generation for `endpoint` at `epoch`, with their set ids.
    func keys(endpoint: UInt32, epoch: UInt8) -> [(key: SelectorKey, set: UInt32)] {
        Direction.allCases.flatMap { direction in
            self[direction].map {
                (SelectorKey(endpoint: endpoint, identity: $0.identity, direction: direction, epoch: epoch), $0.set)
            }
        }
    }
}

/// What the policy maps hold, in the shape `program(_:)` diffs against: endpoint configs, the ipcache, each
/// endpoint's selector generations, and the content-addressed policy sets.
///
/// Either read back from the kernel (`Datapath.readState()`) or carried forward from the last successful program
/// (the memo): only this process writes these maps, so the carried-forward state is exact.
struct MapState: Equatable {
    var endpoints: [UInt32: EndpointConfig] = [:]
    var ipcache: [IPPrefix: UInt32] = [:]
    /// endpoint -> epoch -> selectors
    var generations: [UInt32: [UInt8: Generation]] = [:]
    var sets: [UInt32: PortSet] = [:]
    /// Content -> set id, the lowest id when a crash left duplicates: how identical sets are shared.
    var setIDs: [PortSet: UInt32] = [:]
    /// Selectors whose set is missing (left by a crash): deleted by the next program.
    var danglingSelectors: [SelectorKey] = []

    var selectorCount: Int { generations.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }

    /// Policy keys per map: sets with port ranges live in the LPM trie, all others in the exact hash.
    var policyKeyCounts: (ranged: Int, exact: Int) { Self.keyCounts(sets) }

    static func keyCounts(_ sets: [UInt32: PortSet]) -> (ranged: Int, exact: Int) {
        var counts = (ranged: 0, exact: 0)
        for (set, content) in sets {
            if SetShape.isRanged(set) { counts.ranged += content.count } else { counts.exact += content.count }
        }
        return counts
    }

    /// The generation an endpoint's config selects (empty when it has no config or no selectors).
    func activeGeneration(_ ifindex: UInt32) -> Generation {
        guard let config = endpoints[ifindex] else { return Generation() }
        return generations[ifindex]?[config.epoch & 1] ?? Generation()
    }

    /// Policy-key level differences between two generations (what `ProgramReport.policy` counts).
    func countChanges(from old: Generation, to new: Generation, into changes: inout ProgramReport.Changes) {
        Generation.forEachDifference(old, new) { _, _, oldID, newID in
            let oldSet = oldID.flatMap { sets[$0] } ?? [:]
            let newSet = newID.flatMap { sets[$0] } ?? [:]
            for (key, value) in newSet {
                if let oldValue = oldSet[key] {
                    if oldValue != value { changes.updated += 1 }
                } else {
                    changes.added += 1
                }
            }
            changes.removed += oldSet.keys.count { newSet[$0] == nil }
        }
    }
}

extension Generation {
    /// Calls `body` for every selector whose set differs between `old` and `new` (nil where a generation has no
    /// selector for that identity), walking the sorted lists side by side.
    static func forEachDifference(
        _ old: Generation, _ new: Generation,
        _ body: (_ direction: Direction, _ identity: UInt32, _ old: UInt32?, _ new: UInt32?) -> Void
    ) {
        for direction in Direction.allCases {
            let before = old[direction]
            let after = new[direction]
            var i = 0
            var j = 0
            while i < before.count || j < after.count {
                if j == after.count || (i < before.count && before[i].identity < after[j].identity) {
                    body(direction, before[i].identity, before[i].set, nil)
                    i += 1
                } else if i == before.count || after[j].identity < before[i].identity {
                    body(direction, after[j].identity, nil, after[j].set)
                    j += 1
                } else {
                    if before[i].set != after[j].set { body(direction, after[j].identity, before[i].set, after[j].set) }
                    i += 1
                    j += 1
                }
            }
        }
    }
}

extension Datapath {
    /// The maps' contents, read from the kernel. Costly at scale (the LPM tries cannot be read in batches), which is
    /// why `program(_:)` normally diffs against the memo of its own last write.
    func readState() throws -> MapState {
        var state = MapState()
        for (ifindex, value) in try endpoints.entries(as: (UInt32.self, bulwark_endpoint.self)) {
            state.endpoints[ifindex] = EndpointConfig(value)
        }
        for (key, value) in try ipcache.entries(as: (bulwark_ipcache_key.self, bulwark_ipcache_value.self)) {
            if let prefix = IPPrefix(ipcacheKey: key) { state.ipcache[prefix] = value.identity }
        }
        state.sets = try readSets()
        // A set is shared only when its id's shape matches its content (a set left by an older layout is not).
        for (set, content) in state.sets
        where set & SetShape.mask == SetShape.of(content) && state.setIDs[content].map({ set < $0 }) ?? true {
            state.setIDs[content] = set
        }
        for (raw, value) in try selectors.entries(as: (bulwark_selector_key.self, bulwark_selector_value.self)) {
            let (selector, set) = (SelectorKey(raw), value.set_id)
            guard state.sets[set] != nil else {
                state.danglingSelectors.append(selector)
                continue
            }
            state.generations[selector.endpoint, default: [:]][selector.epoch, default: Generation()][
                selector.direction
            ].append(Selection(identity: selector.identity, set: set))
        }
        for (endpoint, generations) in state.generations {
            for epoch in generations.keys {
                state.generations[endpoint]![epoch]!.ingress.sort()
                state.generations[endpoint]![epoch]!.egress.sort()
            }
        }
        return state
    }
}
