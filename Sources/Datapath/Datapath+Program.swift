internal import BPFShims
import DataplaneModel

extension Datapath {
    /// Makes the maps hold `desired`, changing only what differs from what they hold now.
    ///
    /// Hitless ordering (no packet that both the old and the new state allow is dropped, none that both deny passes):
    /// 1. Each endpoint whose policy changes gets its whole new policy written into its *inactive* generation
    ///    (`policy_epoch` in the endpoint config selects one of two per endpoint), then one atomic write of the
    ///    endpoint config flips generation and isolation together. A packet reads the config once, so it is judged
    ///    entirely by the old or entirely by the new policy; overlapping LPM folds never mix. New endpoints get their
    ///    policy before their config exists (until then their packets are not enforced, as before).
    /// 2. ipcache upserts, then ipcache deletions: with upserts first, every address matches either its old or its new
    ///    longest prefix, so it resolves to its old or its new identity, never to a third one.
    /// 3. Removed endpoints lose their config first (their packets pass as for any unknown interface), then entries.
    /// 4. Old generations and orphans (entries of a generation no config points to) are deleted last.
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
        let plan = try ProgramPlan(desired: desired, current: try readState(), report: &report)
        try plan.checkCapacity(endpoints: endpoints, ipcache: ipcache, policy: policy)
        report.mapOperations = try apply(plan)
        return report
    }

    /// The maps' current contents, read from the kernel.
    func readState() throws -> MapState {
        var state = MapState()
        for (ifindex, value) in try endpoints.entries(as: (UInt32.self, bulwark_endpoint.self)) {
            state.endpoints[ifindex] = EndpointConfig(value)
        }
        for (key, value) in try ipcache.entries(as: (bulwark_ipcache_key.self, bulwark_ipcache_value.self)) {
            if let prefix = IPPrefix(ipcacheKey: key) { state.ipcache[prefix] = value.identity }
        }
        for (key, value) in try policy.entries(as: (bulwark_policy_key.self, bulwark_policy_value.self)) {
            let key = PolicyKey(key)
            state.policy[key.endpoint, default: [:]][key.epoch, default: [:]][key.withEpoch(0)] = PolicyValue(value)
        }
        return state
    }

    private func apply(_ plan: ProgramPlan) throws -> Int {
        var operations = 0
        func write(_ keys: [PolicyKey: PolicyValue]) throws {
            try policy.update(keys.map { ($0.key.raw, $0.value.raw) })
            operations += keys.count
        }
        func erase(_ keys: [PolicyKey]) throws {
            try policy.delete(keys.map(\.raw))
            operations += keys.count
        }
        // 1. New generations, then the atomic flip per endpoint.
        for change in plan.endpointChanges {
            try erase(change.staleKeys)
            try write(change.newKeys)
            try endpoints.update(change.ifindex, change.config.raw(ifindex: change.ifindex))
            operations += 1
        }
        // 2. ipcache: upserts before deletions.
        try ipcache.update(plan.ipcacheUpserts.map { ($0.key.ipcacheKey, bulwark_ipcache_value(identity: $0.value, pad: 0)) })
        try ipcache.delete(plan.ipcacheRemovals.map(\.ipcacheKey))
        operations += plan.ipcacheUpserts.count + plan.ipcacheRemovals.count
        // 3. Removed endpoints: config first.
        for ifindex in plan.removedEndpoints {
            try endpoints.delete(ifindex)
            operations += 1
        }
        // 4. Old generations, entries of removed endpoints, orphans.
        try erase(plan.finalDeletions)
        return operations
    }
}

/// The kernel maps' contents as `program(_:)` found them; policy grouped by endpoint and generation.
struct MapState {
    var endpoints: [UInt32: EndpointConfig] = [:]
    var ipcache: [IPPrefix: UInt32] = [:]
    /// endpoint -> epoch -> keys (normalised to epoch 0) -> value
    var policy: [UInt32: [UInt8: [PolicyKey: PolicyValue]]] = [:]

    var policyCount: Int { policy.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }
}
