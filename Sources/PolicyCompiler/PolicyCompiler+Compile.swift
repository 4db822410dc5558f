import DataplaneModel
import KubeModel

extension PolicyCompiler {
    /// Brings the desired state up to date with every change fed since the last call, and returns it.
    public mutating func compile() -> CompileResult {
        var changes = Changes()
        applyPolicyChanges(&changes)
        let rekeyed = rekeyPods(&changes)
        updatePeers(&changes)
        updateTargets(rekeyed: rekeyed, &changes)
        for reference in changes.templates.sorted() where activePolicies[reference] != nil {
            templates[reference] = buildTemplates(activePolicies[reference]!)
            changes.endpoints.formUnion(targets[reference] ?? [])
        }
        rebuildEndpoints(changes.endpoints)
        dirtyPods = []
        dirtyNamespaces = []
        dirtyPolicies = []
        return result()
    }

    /// What one compile has found to redo, step by step.
    struct Changes {
        var newPeers: Set<PodPeer> = []
        var selectorsChanged = false
        var targets: Set<PolicyReference> = []
        var templates: Set<PolicyReference> = []
        var endpoints: Set<ObjectKey> = []
        var createdIdentities: [Identity] = []
        var freedIdentities: [(Identity, IdentityKey)] = []
    }

    /// Swaps changed policies out and in: their peers, CIDR selectors, rule ids and targets.
    private mutating func applyPolicyChanges(_ changes: inout Changes) {
        for reference in dirtyPolicies.sorted() {
            if let old = activePolicies.removeValue(forKey: reference) {
                policiesByNamespace[reference.namespace]?.remove(reference)
                for peer in old.podPeers {
                    peers[peer]?.users.remove(reference)
                    if peers[peer]?.users.isEmpty == true { peers[peer] = nil }
                }
                for selector in old.cidrSelectors {
                    selectorUsers[selector]?.remove(reference)
                    if selectorUsers[selector]?.isEmpty == true {
                        selectorUsers[selector] = nil
                        changes.selectorsChanged = true
                    }
                }
                for id in ruleIDs(of: old) where ruleInfo[id]?.policy == reference.description { ruleInfo[id] = nil }
                for pod in targets.removeValue(forKey: reference) ?? [] {
                    endpointPolicies[pod]?.remove(reference)
                    changes.endpoints.insert(pod)
                }
                templates[reference] = nil
            }
            guard let new = policies[reference]?.accepted else { continue }
            activePolicies[reference] = new
            policiesByNamespace[reference.namespace, default: []].insert(reference)
            for peer in new.podPeers {
                if peers[peer] == nil {
                    peers[peer] = PeerRecord()
                    changes.newPeers.insert(peer)
                }
                peers[peer]!.users.insert(reference)
            }
            for selector in new.cidrSelectors {
                if selectorUsers[selector] == nil { changes.selectorsChanged = true }
                selectorUsers[selector, default: []].insert(reference)
            }
            allocateRuleIDs(for: new)
            changes.targets.insert(reference)
            changes.templates.insert(reference)
        }
        if changes.selectorsChanged { cidrIndex = CIDRIndex(Set(selectorUsers.keys)) }
    }

    /// Recomputes the identity of every pod whose labels, namespace labels or matched CIDR selectors may have
    /// changed, and of every CIDR prefix when the selectors changed; updates the ipcache. Returns the pods rekeyed.
    private mutating func rekeyPods(_ changes: inout Changes) -> Set<ObjectKey> {
        var rekeyed = dirtyPods
        for namespace in dirtyNamespaces { rekeyed.formUnion(podsByNamespace[namespace] ?? []) }
        if changes.selectorsChanged { rekeyed.formUnion(pods.keys) }

        var retained: [IdentityKey] = []
        var released: [IdentityKey] = []
        var touched = Set<IPAddress>()
        for key in rekeyed {
            let old = podIdentityKeys.removeValue(forKey: key) ?? []
            released += old.map(\.1)
            for (address, _) in old {
                addressClaims[address]?[key] = nil
                touched.insert(address)
            }
            guard let pod = pods[key], pod.eligible else { continue }
            let labels = LabelSet(
                namespace: pod.namespace, namespaceLabels: labels(ofNamespace: pod.namespace), podLabels: pod.labels,
                namedPorts: pod.namedPorts)
            let keys = pod.addresses.map { ($0, IdentityKey(labels: labels, selectors: cidrIndex.matching(IPPrefix(host: $0)))) }
            podIdentityKeys[key] = keys
            retained += keys.map(\.1)
            touched.formUnion(pod.addresses)
        }
        if changes.selectorsChanged {
            released += prefixKeys.values
            prefixKeys = [:]
            for prefix in cidrIndex.prefixes {
                let selectors = cidrIndex.matching(prefix)
                if !selectors.isEmpty { prefixKeys[prefix] = IdentityKey(labels: nil, selectors: selectors) }
            }
            retained += prefixKeys.values
        }
        changes.createdIdentities = allocator.retain(retained)
        for key in released {
            let identity = allocator.identities[key]!
            if allocator.release(key) != nil { changes.freedIdentities.append((identity, key)) }
        }

        for (key, keys) in podIdentityKeys where rekeyed.contains(key) {
            for (address, identityKey) in keys { addressClaims[address, default: [:]][key] = allocator.identities[identityKey] }
        }
        for address in touched { refreshIPCache(IPPrefix(host: address)) }
        if changes.selectorsChanged {
            for prefix in Set(prefixIdentities.keys).union(cidrIndex.prefixes) {
                prefixIdentities[prefix] =
                    cidrIndex.prefixes.contains(prefix) ? prefixKeys[prefix].flatMap { allocator.identities[$0] } ?? .world : nil
                refreshIPCache(prefix)
            }
        }
        return rekeyed
    }

    /// The ipcache entry for one prefix: the node's own address beats a pod address, which beats a CIDR prefix.
    private mutating func refreshIPCache(_ prefix: IPPrefix) {
        if prefix.length == prefix.address.bitWidth {
            if nodeAddresses.contains(prefix.address) { return }
            if let claims = addressClaims[prefix.address], let owner = claims.keys.min() {
                ipcache.set(prefix, claims[owner])
                return
            }
            addressClaims[prefix.address] = nil
        }
        ipcache.set(prefix, prefixIdentities[prefix])
    }

    /// Updates the identity indexes and every cached peer selection for the identities created and freed.
    private mutating func updatePeers(_ changes: inout Changes) {
        var changedSelectors = Set<CIDRSelector>()
        var changedPeers = Set<PodPeer>()
        for (identity, key) in changes.freedIdentities {
            if let labels = key.labels {
                identitiesByNamespace[labels.namespace]?.remove(identity)
                for (peer, record) in peers where record.identities.contains(identity) {
                    peers[peer]!.identities.remove(identity)
                    changedPeers.insert(peer)
                }
            }
            for selector in key.selectors {
                identitiesBySelector[selector]?.remove(identity)
                changedSelectors.insert(selector)
            }
        }
        for identity in changes.createdIdentities {
            let key = allocator.keys[identity]!
            if let labels = key.labels {
                identitiesByNamespace[labels.namespace, default: []].insert(identity)
                for (peer, _) in peers where !changes.newPeers.contains(peer) && peer.matches(labels) {
                    peers[peer]!.identities.insert(identity)
                    changedPeers.insert(peer)
                }
            }
            for selector in key.selectors {
                identitiesBySelector[selector, default: []].insert(identity)
                changedSelectors.insert(selector)
            }
        }
        for selector in identitiesBySelector.keys where identitiesBySelector[selector]!.isEmpty {
            identitiesBySelector[selector] = nil
        }
        for peer in changes.newPeers { peers[peer]!.identities = evaluate(peer) }
        for peer in changedPeers { changes.templates.formUnion(peers[peer]?.users ?? []) }
        for selector in changedSelectors { changes.templates.formUnion(selectorUsers[selector] ?? []) }
    }

    /// The pod identities a pod peer selects, from scratch.
    private func evaluate(_ peer: PodPeer) -> Set<Identity> {
        var result = Set<Identity>()
        for (namespace, identities) in identitiesByNamespace {
            switch peer.namespaces {
            case .named(let name): guard name == namespace else { continue }
            case .selected(let selector): guard selector.matches(labels(ofNamespace: namespace)) else { continue }
            }
            for identity in identities where peer.podSelector.matches(allocator.keys[identity]!.labels!.podLabels) {
                result.insert(identity)
            }
        }
        return result
    }

    /// Which local pods each policy selects: re-evaluated for changed pods and for new or changed policies.
    private mutating func updateTargets(rekeyed: Set<ObjectKey>, _ changes: inout Changes) {
        for key in rekeyed {
            let pod = pods[key]
            let wasEndpoint = endpoints[key] != nil
            var selected = Set<PolicyReference>()
            if let pod, isLocal(pod) {
                for reference in policiesByNamespace[pod.namespace] ?? []
                where activePolicies[reference]!.podSelector.matches(pod.labels) {
                    selected.insert(reference)
                }
            }
            let previous = endpointPolicies[key] ?? []
            for reference in previous.subtracting(selected) { targets[reference]?.remove(key) }
            for reference in selected.subtracting(previous) { targets[reference, default: []].insert(key) }
            endpointPolicies[key] = pod.map(isLocal) == true ? selected : nil
            if wasEndpoint || pod.map(isLocal) == true { changes.endpoints.insert(key) }
        }
        for reference in changes.targets {
            guard let policy = activePolicies[reference] else { continue }
            var selected = Set<ObjectKey>()
            for key in podsByNamespace[reference.namespace] ?? [] {
                guard let pod = pods[key], isLocal(pod), policy.podSelector.matches(pod.labels) else { continue }
                selected.insert(key)
                endpointPolicies[key, default: []].insert(reference)
            }
            targets[reference] = selected
            changes.endpoints.formUnion(selected)
        }
    }
}
