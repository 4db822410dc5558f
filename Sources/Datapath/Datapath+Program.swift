internal import BPFShims
import DataplaneModel

extension Datapath {
    /// Makes the maps hold `desired`, changing only what differs from what they hold now.
    ///
    /// Hitless ordering (no packet that both the old and the new state allow is dropped, none that both deny passes):
    /// 0. Policy sets the new state needs and the maps lack are written first. Sets are immutable and shared by
    ///    content, so nothing in use changes.
    /// 1. Each endpoint whose policy changes gets its whole new selector generation written into its *inactive*
    ///    epoch (`policy_epoch` in the endpoint config selects one of two per endpoint), then one atomic write of the
    ///    endpoint config flips generation and isolation together. A packet reads the config once, so it is judged
    ///    entirely by the old or entirely by the new policy; overlapping LPM folds never mix. New endpoints get their
    ///    policy before their config exists (until then their packets are not enforced, as before).
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
    @discardableResult
    public func program(_ desired: DesiredState) throws -> ProgramReport {
        lock.lock()
        defer { lock.unlock() }
        var report = ProgramReport()
        let current = try readState()
        let plan = try ProgramPlan(desired: desired, current: current, report: &report)
        try plan.checkCapacity(endpoints: endpoints, ipcache: ipcache)
        let layout = PolicyLayout(plan: plan, current: current)
        try layout.checkCapacity(selectors: selectors, policy: policy, policyExact: policyExact, current: current)
        do {
            report.mapOperations = try apply(plan, layout: layout)
        } catch {
            ipcacheMemo = nil
            throw error
        }
        ipcacheMemo = (plan.ipcacheAfter, .now)
        return report
    }

    /// How long the remembered ipcache is trusted before it is read from the kernel again.
    ///
    /// Why remember it at all: the ipcache holds every pod IP of the cluster (tens of thousands of LPM entries, which
    /// the kernel cannot read in batches), while a typical update changes a handful; reading it back on every
    /// program would dominate the reconcile. Only this process writes it, so the memo is exact; re-reading it every
    /// 30 s (and after any failed program) still repairs drift from outside, as diffing against the kernel intends.
    static let ipcacheMemoLifetime: Duration = .seconds(30)

    /// The maps' current contents, read from the kernel (the ipcache from the memo while it is fresh).
    func readState() throws -> MapState {
        var state = MapState()
        for (ifindex, value) in try endpoints.entries(as: (UInt32.self, bulwark_endpoint.self)) {
            state.endpoints[ifindex] = EndpointConfig(value)
        }
        if let memo = ipcacheMemo, ContinuousClock.now - memo.at < Self.ipcacheMemoLifetime {
            state.ipcache = memo.entries
        } else {
            for (key, value) in try ipcache.entries(as: (bulwark_ipcache_key.self, bulwark_ipcache_value.self)) {
                if let prefix = IPPrefix(ipcacheKey: key) { state.ipcache[prefix] = value.identity }
            }
        }
        state.sets = try readSets()
        for (raw, value) in try selectors.entries(as: (bulwark_selector_key.self, bulwark_selector_value.self)) {
            let (selector, set) = (SelectorKey(raw), value.set_id)
            state.selectors[selector] = set
            guard let content = state.sets[set] else {
                state.danglingSelectors.append(selector)
                continue
            }
            for (port, value) in content {
                let key = PolicyKey(selector: selector.withEpoch(0), port: port)
                state.policy[selector.endpoint, default: [:]][selector.epoch, default: [:]][key] = value
            }
        }
        return state
    }

    private func apply(_ plan: ProgramPlan, layout: PolicyLayout) throws -> Int {
        var operations = 0
        // 0. New policy sets.
        operations += try writeSets(layout.newSets)
        // 1. New generations, then the atomic flip per endpoint.
        for (change, selection) in zip(plan.endpointChanges, layout.selections) {
            try selectors.delete(selection.stale.map(\.raw))
            try selectors.update(
                selection.writes.map { ($0.key.raw, layout.selectorValue($0.value, slots: ruleSlots)) })
            try endpoints.update(change.ifindex, change.config.raw(ifindex: change.ifindex))
            operations += selection.stale.count + selection.writes.count + 1
        }
        // 2. ipcache: upserts before deletions.
        try ipcache.update(
            plan.ipcacheUpserts.map { ($0.key.ipcacheKey, bulwark_ipcache_value(identity: $0.value, pad: 0)) })
        try ipcache.delete(plan.ipcacheRemovals.map(\.ipcacheKey))
        operations += plan.ipcacheUpserts.count + plan.ipcacheRemovals.count
        // 3. Removed endpoints: config first.
        for ifindex in plan.removedEndpoints {
            try endpoints.delete(ifindex)
            operations += 1
        }
        // 4. Old generations, selectors of removed endpoints, orphans; then sets nobody selects.
        try selectors.delete(layout.finalSelectorDeletions.map(\.raw))
        try deleteSetKeys(layout.unusedSetKeys)
        return operations + layout.finalSelectorDeletions.count + layout.unusedSetKeys.count
    }
}

/// The kernel maps' contents as `program(_:)` found them; policy grouped by endpoint and generation.
struct MapState {
    var endpoints: [UInt32: EndpointConfig] = [:]
    var ipcache: [IPPrefix: UInt32] = [:]
    /// endpoint -> epoch -> keys (normalised to epoch 0) -> value, as selectors and sets resolve them
    var policy: [UInt32: [UInt8: [PolicyKey: PolicyValue]]] = [:]
    var selectors: [SelectorKey: UInt32] = [:]
    var sets: [UInt32: PortSet] = [:]
    /// Selectors whose set is missing (left by a crash): deleted.
    var danglingSelectors: [SelectorKey] = []
}
