import DataplaneModel
import KubeModel

extension PolicyCompiler {
    /// Brings the desired state up to date with every change fed since the last call, and returns it.
    ///
    /// Each step hands the next only what it changed: policies swapped in and out, pods whose identity changed,
    /// peers whose identity sets changed, policies whose templates or targets changed, and finally the endpoints to
    /// rebuild; so a pod label change costs the policies and endpoints it can affect, not the cluster.
    public mutating func compile() -> CompileResult {
        var changes = Changes()
        applyPolicyChanges(&changes)
        rekeyPods(&changes)
        updatePeers(&changes)
        updateTargets(&changes)
        updateTemplates(&changes)
        let counted = rebuildEndpoints(changes.endpoints)
        refreshResults(dirtyPolicies.union(changes.retargeted).union(counted))
        dirtyPods = []
        dirtyNamespaces = []
        dirtyPolicies = []
        return result()
    }

    /// What one compile has found to redo, step by step.
    struct Changes {
        var newPeers: Set<PodPeer> = []
        var selectorsChanged = false
        /// New or changed policies, whose targets are found from scratch.
        var targets: Set<PolicyReference> = []
        /// Policies whose set of targets gained or lost a pod.
        var retargeted: Set<PolicyReference> = []
        /// Policies whose templates are out of date (built only for those with targets, see `updateTemplates`).
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
                    if peers[peer]?.users.isEmpty == true {
                        peers[peer] = nil
                        peerIndex.remove(peer)
                    }
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

    /// Which local pods each policy selects: re-evaluated for changed pods (a policy selects by pod labels in its
    /// own namespace, so namespace labels and identities never change targets) and for new or changed policies.
    private mutating func updateTargets(_ changes: inout Changes) {
        for key in dirtyPods {
            let pod = pods[key]
            let isEndpoint = pod.map(isLocal) == true
            // Every pod enforced here, now or at the last compile, has an entry (maybe empty) in endpointPolicies.
            guard isEndpoint || endpointPolicies[key] != nil else { continue }
            var selected = Set<PolicyReference>()
            if let pod, isEndpoint {
                for reference in policiesByNamespace[pod.namespace] ?? []
                where activePolicies[reference]!.podSelector.matches(pod.labels) {
                    selected.insert(reference)
                }
            }
            let previous = endpointPolicies[key] ?? []
            for reference in previous.subtracting(selected) {
                targets[reference]?.remove(key)
                changes.retargeted.insert(reference)
            }
            for reference in selected.subtracting(previous) {
                targets[reference, default: []].insert(key)
                changes.retargeted.insert(reference)
            }
            endpointPolicies[key] = isEndpoint ? selected : nil
            changes.endpoints.insert(key)
        }
        for reference in changes.targets {
            guard let policy = activePolicies[reference] else { continue }
            var selected = Set<ObjectKey>()
            for key in localPodsByNamespace[reference.namespace] ?? [] where policy.podSelector.matches(pods[key]!.labels) {
                selected.insert(key)
                endpointPolicies[key, default: []].insert(reference)
            }
            targets[reference] = selected
            changes.endpoints.formUnion(selected)
        }
    }

    /// Builds the templates of policies that select some local pod and are out of date or newly needed; drops those
    /// of policies that select none. Why lazily: on a node with a hundred pods most policies select none of them,
    /// and their templates (every peer identity times every port) would be most of the work of every compile.
    private mutating func updateTemplates(_ changes: inout Changes) {
        for reference in changes.templates.union(changes.retargeted) {
            guard let policy = activePolicies[reference], let selected = targets[reference], !selected.isEmpty else {
                templates[reference] = nil
                continue
            }
            guard changes.templates.contains(reference) || templates[reference] == nil else { continue }
            templates[reference] = buildTemplates(policy)
            changes.endpoints.formUnion(selected)
        }
    }

    /// The published result of every policy in `references`, from its validation, targets and entry counts.
    private mutating func refreshResults(_ references: Set<PolicyReference>) {
        for reference in references {
            switch policies[reference]?.validation {
            case nil: policyResults[reference] = nil
            case .failure(let failure)?: policyResults[reference] = PolicyResult(accepted: false, errors: failure.errors)
            case .success?:
                policyResults[reference] = PolicyResult(
                    accepted: true, selectedPods: (targets[reference] ?? []).sorted(),
                    programmedEntries: policyEntryCounts[reference] ?? 0)
            }
        }
    }
}
