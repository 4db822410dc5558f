import DataplaneModel

/// What `program(_:)` will write and delete, and the maps' contents afterwards, computed from the desired state and
/// the current contents before any change (pure, so the diff and the capacity checks are decided before the first
/// write). The diff works on selectors (endpoint, direction, identity -> policy set id), so its cost follows the
/// number of selectors that change, not the number of port keys behind them.
struct ProgramPlan {
    /// The policy-map writes of one endpoint, in order: leftovers deleted, selectors written, config written last.
    struct EndpointStep {
        var ifindex: UInt32
        /// Leftovers of a crash in the generation about to be written.
        var staleSelectors: [SelectorKey] = []
        var writes: [(key: SelectorKey, set: UInt32)] = []
        /// The new config (the atomic flip to a new generation, or new isolation); nil when unchanged.
        var config: EndpointConfig?
        /// Selector keys the writes add (not replace), for the capacity check.
        var addedSelectors = 0
    }

    /// Where one endpoint direction's folded selections are remembered between programs.
    struct FoldSlot: Hashable {
        var ifindex: UInt32
        var direction: Direction
    }

    /// Folded and interned selections per endpoint direction, from the last program: an unchanged `DirectionPolicy`
    /// (usually the very same array) is not folded again.
    typealias FoldMemo = [FoldSlot: (policy: DirectionPolicy, selections: [Selection])]

    var newSets: [UInt32: PortSet] = [:]
    var steps: [EndpointStep] = []
    var ipcacheUpserts: [(prefix: IPPrefix, identity: UInt32)] = []
    var ipcacheRemovals: [IPPrefix] = []
    var removedEndpoints: [UInt32] = []
    var finalSelectorDeletions: [SelectorKey] = []
    var unusedSets: [(id: UInt32, content: PortSet)] = []
    /// The maps' contents once the plan is applied (the next memo).
    var after: MapState
    /// The fold memo for the next program.
    var folds: FoldMemo = [:]
    var nextSetID: UInt32
    private let before: MapState

    /// - Parameters:
    ///   - fresh: `current` was just read from the kernel (it may hold sets a crash left unused).
    ///   - ipcacheUnchanged: the caller knows `desired.ipcache` is what `current` was programmed from.
    ///   - folds: the previous program's fold memo; entries are reused only while their sets still exist.
    ///   - nextSetID: the lowest set id never used by this process (ids are not reused, so a memo cannot point to
    ///     a set whose content changed).
    init(
        desired: DesiredState, current: MapState, fresh: Bool, ipcacheUnchanged: Bool, folds previous: FoldMemo,
        nextSetID: UInt32, report: inout ProgramReport
    ) throws {
        before = current
        after = current
        self.nextSetID = max(nextSetID, (current.sets.keys.map { $0 >> SetShape.bits }.max() ?? 0) + 1)
        let wanted = try desiredEndpoints(desired, previous: previous, report: &report)
        for (ifindex, target) in wanted.sorted(by: { $0.key < $1.key }) {
            planEndpoint(ifindex, config: target.config, generation: target.generation, report: &report)
        }
        planRemovals(keeping: wanted, report: &report)
        if !ipcacheUnchanged { try planIPCache(desired.ipcache, report: &report) }
        if fresh || !steps.isEmpty || !finalSelectorDeletions.isEmpty { collectUnusedSets() }
    }

    /// Refuses to start when a map would overflow at its peak (old and new generations both present).
    func checkCapacity(endpoints: BPFMap, ipcache: BPFMap, selectors: BPFMap, policy: BPFMap, policyExact: BPFMap)
        throws
    {
        let newEndpoints = steps.count { $0.config != nil && before.endpoints[$0.ifindex] == nil }
        try Self.check(endpoints, before.endpoints.count + newEndpoints)
        try Self.check(ipcache, before.ipcache.count + ipcacheUpserts.count)
        var count = before.selectorCount + before.danglingSelectors.count
        var peak = count
        for step in steps {
            count += step.addedSelectors - step.staleSelectors.count
            peak = max(peak, count)
        }
        try Self.check(selectors, peak)
        let (current, added) = (before.policyKeyCounts, MapState.keyCounts(newSets))
        try Self.check(policy, current.ranged + added.ranged)
        try Self.check(policyExact, current.exact + added.exact)
    }

    private static func check(_ map: BPFMap, _ required: Int) throws {
        if required > map.capacity { throw DatapathError.mapFull(map: map.name, capacity: map.capacity, required: required) }
    }

    private typealias Target = (config: EndpointConfig, generation: Generation)

    private mutating func desiredEndpoints(
        _ desired: DesiredState, previous: FoldMemo, report: inout ProgramReport
    ) throws -> [UInt32: Target] {
        var result: [UInt32: Target] = [:]
        var pods: [UInt32: String] = [:]
        var folded: [DirectionPolicy: [Selection]] = [:]
        for endpoint in desired.endpoints {
            guard endpoint.ifindex != 0 else {
                report.unresolvedEndpoints.append(endpoint.pod)
                continue
            }
            if let other = pods[endpoint.ifindex] {
                throw DatapathError.invalidDesiredState(
                    "endpoints \(other) and \(endpoint.pod) both use interface \(endpoint.ifindex)")
            }
            pods[endpoint.ifindex] = endpoint.pod
            var generation = Generation()
            for direction in Direction.allCases {
                let policy = endpoint.policy(direction)
                guard policy.isolation != .none else { continue }
                let slot = FoldSlot(ifindex: endpoint.ifindex, direction: direction)
                let selections: [Selection]
                if let memo = previous[slot], memo.policy == policy, memo.selections.allSatisfy({ after.sets[$0.set] != nil }) {
                    selections = memo.selections
                } else if let shared = folded[policy] {
                    selections = shared
                } else {
                    selections = PolicyFolding.fold(policy).map { Selection(identity: $0.key, set: intern($0.value)) }
                        .sorted()
                    folded[policy] = selections
                }
                folds[slot] = (policy, selections)
                generation[direction] = selections
            }
            let config = EndpointConfig(
                identity: endpoint.identity.rawValue, ingress: endpoint.ingress.isolation,
                egress: endpoint.egress.isolation, epoch: 0, flags: EndpointConfig.wildcardFlags(of: generation))
            result[endpoint.ifindex] = (config, generation)
        }
        return result
    }

    /// The id of a set with this content: an existing one (sets are immutable and shared), else a new one whose low
    /// bits carry its shape (`SetShape`: which map holds its keys, which lengths the program looks up).
    private mutating func intern(_ content: PortSet) -> UInt32 {
        if let id = after.setIDs[content] { return id }
        let id = nextSetID << SetShape.bits | SetShape.of(content)
        nextSetID += 1
        after.sets[id] = content
        after.setIDs[content] = id
        newSets[id] = content
        return id
    }

    /// One endpoint: unchanged, changed in place (only exact-identity selectors differ), or a new generation.
    ///
    /// In place is hitless because a packet's verdict reads one exact-identity selector plus the any-identity one:
    /// when only exact selectors change, each packet sees its one selector either before or after its single write.
    /// Anything else (the any-identity selector, isolation, flags) needs the whole generation flipped at once.
    private mutating func planEndpoint(
        _ ifindex: UInt32, config target: EndpointConfig, generation: Generation, report: inout ProgramReport
    ) {
        let generations = before.generations[ifindex] ?? [:]
        after.generations[ifindex] = nil
        guard let existing = before.endpoints[ifindex] else {
            // New endpoint: clear orphans of a crashed predecessor, write generation 0, then create the config.
            var step = EndpointStep(ifindex: ifindex, config: target)
            step.staleSelectors = generations.flatMap { epoch, old in old.keys(endpoint: ifindex, epoch: epoch).map(\.key) }
            step.writes = generation.keys(endpoint: ifindex, epoch: 0)
            step.addedSelectors = step.writes.count
            steps.append(step)
            after.endpoints[ifindex] = target
            after.generations[ifindex] = generation.isEmpty ? nil : [0: generation]
            report.endpoints.added += 1
            after.countChanges(from: Generation(), to: generation, into: &report.policy)
            return
        }
        let active = existing.epoch & 1
        let inactive = active ^ 1
        let current = generations[active] ?? Generation()
        // Generations no config selects (a crash between steps) are deleted at the end, or first when reused.
        var leftovers = generations.filter { $0.key != active }
        if !target.sameApartFromEpoch(existing) { report.endpoints.updated += 1 }
        after.countChanges(from: current, to: generation, into: &report.policy)

        if current == generation || canChangeInPlace(existing, target, current, generation) {
            var config = target
            config.epoch = active
            var step = EndpointStep(ifindex: ifindex, config: config == existing ? nil : config)
            if current != generation {
                let diff = Self.inPlaceDiff(current, generation, endpoint: ifindex, epoch: active)
                step.writes = diff.writes
                step.addedSelectors = diff.added
                finalSelectorDeletions += diff.deletions
            }
            if step.config != nil || !step.writes.isEmpty { steps.append(step) }
            after.endpoints[ifindex] = config
            after.generations[ifindex] = generation.isEmpty ? nil : [active: generation]
        } else {
            var config = target
            config.epoch = inactive
            var step = EndpointStep(ifindex: ifindex, config: config)
            step.staleSelectors = leftovers.removeValue(forKey: inactive)?.keys(endpoint: ifindex, epoch: inactive)
                .map(\.key) ?? []
            step.writes = generation.keys(endpoint: ifindex, epoch: inactive)
            step.addedSelectors = step.writes.count
            steps.append(step)
            finalSelectorDeletions += current.keys(endpoint: ifindex, epoch: active).map(\.key)
            after.endpoints[ifindex] = config
            after.generations[ifindex] = generation.isEmpty ? nil : [inactive: generation]
        }
        finalSelectorDeletions += leftovers.flatMap { epoch, old in old.keys(endpoint: ifindex, epoch: epoch).map(\.key) }
    }

    private func canChangeInPlace(
        _ existing: EndpointConfig, _ target: EndpointConfig, _ current: Generation, _ generation: Generation
    ) -> Bool {
        guard target.sameApartFromEpoch(existing) else { return false }
        return Direction.allCases.allSatisfy { direction in
            let any = Identity.any.rawValue
            return current[direction].first { $0.identity == any } == generation[direction].first { $0.identity == any }
        }
    }

    /// Writes for selectors that are new or point to another set; deletions for selectors that are gone.
    private static func inPlaceDiff(_ current: Generation, _ target: Generation, endpoint: UInt32, epoch: UInt8)
        -> (writes: [(key: SelectorKey, set: UInt32)], added: Int, deletions: [SelectorKey])
    {
        var writes: [(key: SelectorKey, set: UInt32)] = []
        var added = 0
        var deletions: [SelectorKey] = []
        Generation.forEachDifference(current, target) { direction, identity, old, new in
            let key = SelectorKey(endpoint: endpoint, identity: identity, direction: direction, epoch: epoch)
            if let new {
                writes.append((key, new))
                if old == nil { added += 1 }
            } else {
                deletions.append(key)
            }
        }
        return (writes, added, deletions)
    }

    /// Endpoints the desired state no longer has: config first, then their selectors; orphaned generations too.
    private mutating func planRemovals(keeping wanted: [UInt32: Target], report: inout ProgramReport) {
        for (ifindex, existing) in before.endpoints where wanted[ifindex] == nil {
            removedEndpoints.append(ifindex)
            report.endpoints.removed += 1
            after.countChanges(
                from: before.generations[ifindex]?[existing.epoch & 1] ?? Generation(), to: Generation(),
                into: &report.policy)
            after.endpoints[ifindex] = nil
        }
        for (ifindex, generations) in before.generations where wanted[ifindex] == nil {
            finalSelectorDeletions += generations.flatMap { epoch, old in
                old.keys(endpoint: ifindex, epoch: epoch).map(\.key)
            }
            after.generations[ifindex] = nil
        }
        finalSelectorDeletions += before.danglingSelectors
        after.danglingSelectors = []
    }

    private mutating func planIPCache(_ entries: [IPCacheEntry], report: inout ProgramReport) throws {
        var wanted: [IPPrefix: UInt32] = [:]
        wanted.reserveCapacity(entries.count)
        for entry in entries {
            if let other = wanted[entry.prefix], other != entry.identity.rawValue {
                throw DatapathError.invalidDesiredState(
                    "ipcache prefix \(entry.prefix) has identities \(other) and \(entry.identity.rawValue)")
            }
            wanted[entry.prefix] = entry.identity.rawValue
        }
        let current = before.ipcache
        for (prefix, identity) in wanted where current[prefix] != identity {
            ipcacheUpserts.append((prefix, identity))
            if current[prefix] == nil { report.ipcache.added += 1 } else { report.ipcache.updated += 1 }
        }
        ipcacheRemovals = current.keys.filter { wanted[$0] == nil }
        report.ipcache.removed = ipcacheRemovals.count
        after.ipcache = wanted
    }

    /// Sets no selector uses once the plan is applied: deleted last.
    private mutating func collectUnusedSets() {
        var used = Set<UInt32>()
        for generations in after.generations.values {
            for generation in generations.values {
                for selection in generation.ingress { used.insert(selection.set) }
                for selection in generation.egress { used.insert(selection.set) }
            }
        }
        for (id, content) in after.sets where !used.contains(id) {
            unusedSets.append((id, content))
            after.sets[id] = nil
            if after.setIDs[content] == id { after.setIDs[content] = nil }
        }
        // A duplicate left by a crash may have been indexed while another copy stays in use: re-index it.
        for (id, content) in after.sets where after.setIDs[content] == nil { after.setIDs[content] = id }
    }
}
