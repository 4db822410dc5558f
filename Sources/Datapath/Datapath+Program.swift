internal import BPFShims
import DataplaneModel

extension Datapath {
    /// Makes the maps hold `desired`, changing only what differs from what they hold now.
    ///
    /// Hitless ordering (no packet that both the old and the new state allow is dropped, none that both deny passes):
    /// 0. Policy sets the new state needs and the maps lack are written first. Sets are immutable and shared by
    ///    content, so nothing in use changes.
    /// 1. Endpoints whose policy changes. When only exact-identity selectors change (the any-identity selector,
    ///    isolation and flags stay), the changed selectors are written in place: a packet's verdict reads one
    ///    exact-identity selector, so it sees that selector before or after its single atomic write (selectors that
    ///    are gone are deleted in step 4). Otherwise the endpoint's whole new generation is written into its
    ///    *inactive* epoch (`policy_epoch` in the endpoint config selects one of two per endpoint), and once every
    ///    generation is written, one atomic write of each endpoint config flips generation and isolation together:
    ///    a packet reads the config once, so it is judged entirely by the old or entirely by the new policy.
    ///    New endpoints get their policy before their config exists (until then their packets are not enforced).
    /// 2. ipcache upserts, then ipcache deletions: with upserts first, every address matches either its old or its new
    ///    longest prefix, so it resolves to its old or its new identity, never to a third one.
    /// 3. Removed endpoints lose their config first (their packets pass as for any unknown interface), then entries.
    /// 4. Old generations and orphans (selectors of a generation no config points to) are deleted, then policy sets
    ///    no selector uses any more.
    ///
    /// Limitation: a remote address whose identity changes in the same update is, between steps 1 and 2, judged by
    /// its old identity against the new policy.
    ///
    /// Capacity is checked for the peak (old + new generation) before anything is written: a full map throws
    /// `DatapathError.mapFull` and leaves the maps as they were.
    ///
    /// - Parameter rereadingMaps: diff against the maps as the kernel holds them rather than against what the last
    ///   successful program wrote. Only this process writes the maps, so the memo is exact and the normal diff
    ///   needs no kernel reads (the maps hold every pod IP of the cluster and every endpoint's selectors; the LPM
    ///   tries cannot be read in batches); re-reading now and then (the agents do it on their periodic resync, off
    ///   the path of user changes) repairs drift from outside. The first program, and any after a failure, reads.
    @discardableResult
    public func program(_ desired: DesiredState, rereadingMaps: Bool = false) throws -> ProgramReport {
        lock.lock()
        defer { lock.unlock() }
        var report = ProgramReport()
        let memo = rereadingMaps ? nil : self.memo
        let current = try memo?.state ?? readState()
        let plan = try ProgramPlan(
            desired: desired, current: current, fresh: memo == nil, ipcacheUnchanged: memo?.ipcache == desired.ipcache,
            folds: memo == nil ? [:] : folds, nextSetID: nextSetID, report: &report)
        try plan.checkCapacity(
            endpoints: endpoints, ipcache: ipcache, selectors: selectors, policy: policy, policyExact: policyExact)
        nextSetID = plan.nextSetID
        do {
            report.mapOperations = try selectorCache.batch {
                try addressCache.batch { try apply(plan, readBack: memo == nil ? current : nil) }
            }
        } catch {
            self.memo = nil
            throw error
        }
        self.memo = Memo(state: plan.after, ipcache: desired.ipcache)
        folds = plan.folds
        return report
    }

    /// What the last successful `program(_:)` left in the maps and the ipcache entries it was given; guarded by
    /// `lock`.
    struct Memo {
        var state: MapState
        var ipcache: [IPCacheEntry]
    }

    /// Writes the plan in the hitless order (see `program(_:)`); each step is one batched syscall per map. Endpoint
    /// slots, selector and address copies follow their maps: published after the map gains an entry, withdrawn
    /// before it loses one, and reconciled with it when the state was read back (an earlier process may have left
    /// them stale): endpoint slots at the end, the copies first, since a selector bucket says which selectors do
    /// not exist.
    /// - Parameter readBack: the maps' contents just read from the kernel, when the plan was made from them.
    private func apply(_ plan: ProgramPlan, readBack: MapState?) throws -> Int {
        var operations = 0
        if let readBack {
            try selectorCache.reconcile(
                try selectors.entries(as: (bulwark_selector_key.self, bulwark_selector_value.self)).map {
                    (SelectorCopies.Key($0), $1)
                })
            try addressCache.reconcile(
                readBack.ipcache.compactMap { prefix, identity in prefix.isHost ? (prefix.address, identity) : nil })
        }
        // 0. New policy sets (and the counter slots of their rules).
        operations += try writeSets(plan.newSets)
        // 1. Every endpoint's leftovers, then its selectors, then (after all selectors) the configs that flip.
        let stale = plan.steps.flatMap(\.staleSelectors).map(\.raw)
        try selectorCache.withdraw(stale.map(SelectorCopies.Key.init))
        try selectors.delete(stale)
        let writes = plan.steps.flatMap(\.writes).map { write in
            (write.key.raw, bulwark_selector_value(set: write.set, content: plan.after.sets[write.set], slots: ruleSlots))
        }
        try selectors.update(writes)
        try selectorCache.publish(writes.map { (SelectorCopies.Key($0), $1) })
        let configs = plan.steps.compactMap { step in step.config.map { (step.ifindex, $0.raw(ifindex: step.ifindex)) } }
        try endpoints.update(configs)
        endpointSlots.publish(plan.steps.compactMap { step in step.config.map { (step.ifindex, $0) } })
        operations += stale.count + writes.count + configs.count
        // 2. ipcache: upserts before deletions.
        try ipcache.update(
            plan.ipcacheUpserts.map { ($0.prefix.ipcacheKey, bulwark_ipcache_value(identity: $0.identity, pad: 0)) })
        try addressCache.publish(plan.ipcacheUpserts.compactMap { $0.prefix.isHost ? ($0.prefix.address, $0.identity) : nil })
        try addressCache.withdraw(plan.ipcacheRemovals.filter { $0.isHost }.map(\.address))
        try ipcache.delete(plan.ipcacheRemovals.map(\.ipcacheKey))
        operations += plan.ipcacheUpserts.count + plan.ipcacheRemovals.count
        // 3. Removed endpoints: config first.
        endpointSlots.withdraw(plan.removedEndpoints)
        try endpoints.delete(plan.removedEndpoints)
        operations += plan.removedEndpoints.count
        // 4. Old generations, selectors gone in place, of removed endpoints, orphans; then sets nobody selects.
        let finalDeletions = plan.finalSelectorDeletions.map(\.raw)
        try selectorCache.withdraw(finalDeletions.map(SelectorCopies.Key.init))
        try selectors.delete(finalDeletions)
        let unusedSetKeys = plan.unusedSets.flatMap { set in set.content.keys.map { (set.id, $0) } }
        try deleteSetKeys(unusedSetKeys)
        endpointSlots.reconcile(plan.after.endpoints, scanAll: readBack != nil)
        return operations + plan.finalSelectorDeletions.count + unusedSetKeys.count
    }
}
