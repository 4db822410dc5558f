import DataplaneModel

/// What `program(_:)` will write and delete, computed from the desired state and the maps' contents before any
/// change (pure, so the diff and the capacity check are decided before the first write).
struct ProgramPlan {
    /// One endpoint getting a new policy generation and/or a new config.
    struct EndpointChange {
        var ifindex: UInt32
        var config: EndpointConfig
        /// Leftovers in the generation about to be written (a crash between steps), deleted first.
        var staleKeys: [PolicyKey]
        /// The new generation, epoch already set.
        var newKeys: [PolicyKey: PolicyValue]
    }

    var endpointChanges: [EndpointChange] = []
    var ipcacheUpserts: [IPPrefix: UInt32] = [:]
    /// What the ipcache holds once the plan is applied.
    var ipcacheAfter: [IPPrefix: UInt32] = [:]
    var ipcacheRemovals: [IPPrefix] = []
    var removedEndpoints: [UInt32] = []
    var finalDeletions: [PolicyKey] = []
    private var currentCounts: (endpoints: Int, ipcache: Int) = (0, 0)

    init(desired: DesiredState, current: MapState, report: inout ProgramReport) throws {
        currentCounts = (current.endpoints.count, current.ipcache.count)
        let wanted = try Self.desiredEndpoints(desired, report: &report)
        for (ifindex, target) in wanted.sorted(by: { $0.key < $1.key }) {
            planEndpoint(ifindex, target: target, current: current, report: &report)
        }
        for (ifindex, generations) in current.policy where wanted[ifindex] == nil {
            if current.endpoints[ifindex] != nil {
                removedEndpoints.append(ifindex)
                report.endpoints.removed += 1
                report.policy.removed += generations[current.endpoints[ifindex]!.epoch]?.count ?? 0
            }
            for (epoch, keys) in generations { finalDeletions += keys.keys.map { $0.withEpoch(epoch) } }
        }
        for ifindex in current.endpoints.keys where wanted[ifindex] == nil && current.policy[ifindex] == nil {
            removedEndpoints.append(ifindex)
            report.endpoints.removed += 1
        }
        try planIPCache(desired.ipcache, current: current.ipcache, report: &report)
    }

    /// Refuses to start when the endpoint or ipcache map would overflow (policy maps: see `PolicyLayout`).
    func checkCapacity(endpoints: BPFMap, ipcache: BPFMap) throws {
        let newEndpoints = endpointChanges.count { $0.config.epoch == 0 && $0.staleKeys.isEmpty }
        if currentCounts.endpoints + newEndpoints > endpoints.capacity {
            throw DatapathError.mapFull(
                map: endpoints.name, capacity: endpoints.capacity, required: currentCounts.endpoints + newEndpoints)
        }
        if currentCounts.ipcache + ipcacheUpserts.count > ipcache.capacity {
            throw DatapathError.mapFull(
                map: ipcache.name, capacity: ipcache.capacity, required: currentCounts.ipcache + ipcacheUpserts.count)
        }
    }

    private typealias Target = (config: EndpointConfig, keys: [PolicyKey: PolicyValue])

    private static func desiredEndpoints(_ desired: DesiredState, report: inout ProgramReport) throws
        -> [UInt32: Target]
    {
        var result: [UInt32: Target] = [:]
        var pods: [UInt32: String] = [:]
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
            var keys: [PolicyKey: PolicyValue] = [:]
            for direction in Direction.allCases where endpoint.policy(direction).isolation != .none {
                keys.merge(
                    PolicyFolding.fold(
                        endpoint: endpoint.ifindex, direction: direction,
                        policy: endpoint.policy(direction)),
                    uniquingKeysWith: { first, _ in first })
            }
            let config = EndpointConfig(
                identity: endpoint.identity.rawValue, ingress: endpoint.ingress.isolation,
                egress: endpoint.egress.isolation, epoch: 0, flags: EndpointConfig.wildcardFlags(of: keys.keys))
            result[endpoint.ifindex] = (config, keys)
        }
        return result
    }

    private mutating func planEndpoint(
        _ ifindex: UInt32, target: Target, current: MapState, report: inout ProgramReport
    ) {
        let generations = current.policy[ifindex] ?? [:]
        guard let existing = current.endpoints[ifindex] else {
            // New endpoint: clear orphans of a crashed predecessor, write generation 0, then create the config.
            let stale = generations.flatMap { epoch, keys in keys.keys.map { $0.withEpoch(epoch) } }
            endpointChanges.append(
                EndpointChange(
                    ifindex: ifindex, config: target.config, staleKeys: stale, newKeys: target.keys))
            report.endpoints.added += 1
            report.policy.added += target.keys.count
            return
        }
        let active = existing.epoch & 1
        let inactive = active ^ 1
        let activeKeys = generations[active] ?? [:]
        let staleKeys = (generations[inactive] ?? [:]).keys.map { $0.withEpoch(inactive) }
        var config = target.config
        config.epoch = active
        let configChanged = config != existing
        if configChanged { report.endpoints.updated += 1 }
        if activeKeys == target.keys {
            if configChanged {
                endpointChanges.append(EndpointChange(ifindex: ifindex, config: config, staleKeys: [], newKeys: [:]))
            }
            finalDeletions += staleKeys
            return
        }
        for (key, value) in target.keys {
            if let old = activeKeys[key] {
                if old != value { report.policy.updated += 1 }
            } else {
                report.policy.added += 1
            }
        }
        report.policy.removed += activeKeys.keys.count { target.keys[$0] == nil }
        config.epoch = inactive
        var newKeys: [PolicyKey: PolicyValue] = [:]
        newKeys.reserveCapacity(target.keys.count)
        for (key, value) in target.keys { newKeys[key.withEpoch(inactive)] = value }
        endpointChanges.append(EndpointChange(ifindex: ifindex, config: config, staleKeys: staleKeys, newKeys: newKeys))
        finalDeletions += activeKeys.keys.map { $0.withEpoch(active) }
    }

    private mutating func planIPCache(
        _ entries: [IPCacheEntry], current: [IPPrefix: UInt32], report: inout ProgramReport
    ) throws {
        var wanted: [IPPrefix: UInt32] = [:]
        for entry in entries {
            if let other = wanted[entry.prefix], other != entry.identity.rawValue {
                throw DatapathError.invalidDesiredState(
                    "ipcache prefix \(entry.prefix) has identities \(other) and \(entry.identity.rawValue)")
            }
            wanted[entry.prefix] = entry.identity.rawValue
        }
        for (prefix, identity) in wanted where current[prefix] != identity {
            ipcacheUpserts[prefix] = identity
            if current[prefix] == nil { report.ipcache.added += 1 } else { report.ipcache.updated += 1 }
        }
        ipcacheRemovals = current.keys.filter { wanted[$0] == nil }
        report.ipcache.removed = ipcacheRemovals.count
        ipcacheAfter = wanted
    }
}
