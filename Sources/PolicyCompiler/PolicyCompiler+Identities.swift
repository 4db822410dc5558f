import DataplaneModel
import KubeModel

/// One address of a pod with the identity it gets, kept so that a rekey releases exactly what it retained.
struct AddressIdentity: Sendable {
    var address: IPAddress
    var identity: Identity
}

extension PolicyCompiler {
    /// Recomputes the identity of every pod whose labels, namespace labels or matched CIDR selectors may have
    /// changed, and of every CIDR prefix when the selectors changed; updates the ipcache. Endpoints whose identity
    /// changed are marked for rebuilding.
    mutating func rekeyPods(_ changes: inout Changes) {
        var rekeyed = dirtyPods
        for namespace in dirtyNamespaces { rekeyed.formUnion(podsByNamespace[namespace] ?? []) }
        if changes.selectorsChanged { rekeyed.formUnion(pods.keys) }

        var retained: [IdentityKey] = []
        var claimants: [(pod: ObjectKey, address: IPAddress)] = []
        var released: [IdentityKey] = []
        var touched = Set<IPAddress>()
        var previousIdentities: [ObjectKey: Identity] = [:]
        for key in rekeyed {
            let old = podIdentities.removeValue(forKey: key) ?? []
            if let first = old.first, endpoints[key] != nil { previousIdentities[key] = first.identity }
            for claim in old {
                released.append(allocator.keys[claim.identity]!)
                addressClaims[claim.address]?.removeAll { $0.pod == key }
                touched.insert(claim.address)
            }
            guard let pod = pods[key], pod.eligible else { continue }
            let labels = LabelSet(
                namespace: pod.namespace, namespaceLabels: labels(ofNamespace: pod.namespace), podLabels: pod.labels,
                namedPorts: pod.namedPorts)
            for address in pod.addresses {
                retained.append(IdentityKey(labels: labels, selectors: cidrIndex.matching(address)))
                claimants.append((key, address))
                touched.insert(address)
            }
        }
        if changes.selectorsChanged {
            released += prefixKeys.values
            prefixKeys = [:]
            for (prefix, selectors) in cidrIndex.prefixSelectors where !selectors.isEmpty {
                prefixKeys[prefix] = IdentityKey(labels: nil, selectors: selectors)
            }
            retained += prefixKeys.values
        }
        let identities = allocator.retain(retained, created: &changes.createdIdentities)
        for key in released {
            let identity = allocator.identities[key]!
            if allocator.release(key) != nil { changes.freedIdentities.append((identity, key)) }
        }

        for (index, claimant) in claimants.enumerated() {
            let claim = AddressIdentity(address: claimant.address, identity: identities[index])
            podIdentities[claimant.pod, default: []].append(claim)
            addressClaims[claimant.address, default: []].append((claimant.pod, claim.identity))
        }
        for (key, identity) in previousIdentities where podIdentities[key]?.first?.identity != identity {
            changes.endpoints.insert(key)
        }
        var updates: [IPPrefix: Identity?] = [:]
        for address in touched where !nodeAddresses.contains(address) {
            let prefix = IPPrefix(host: address)
            updates[prefix] = ipcacheIdentity(prefix)
        }
        if changes.selectorsChanged {
            for prefix in Set(prefixIdentities.keys).union(cidrIndex.prefixes) {
                prefixIdentities[prefix] =
                    cidrIndex.prefixes.contains(prefix) ? prefixKeys[prefix].flatMap { allocator.identities[$0] } ?? .world : nil
                updates[prefix] = ipcacheIdentity(prefix)
            }
        }
        ipcache.apply(updates)
    }

    /// The ipcache entry for one prefix: the node's own address beats a pod address, which beats a CIDR prefix.
    private mutating func ipcacheIdentity(_ prefix: IPPrefix) -> Identity? {
        if prefix.length == prefix.address.bitWidth {
            if nodeAddresses.contains(prefix.address) { return .host }
            if let owner = addressClaims[prefix.address]?.min(by: { $0.pod < $1.pod }) { return owner.identity }
            addressClaims[prefix.address] = nil
        }
        return prefixIdentities[prefix]
    }

    /// Updates the identity indexes and every cached peer selection for the identities created and freed. Only the
    /// peers the peer index finds for an identity's labels are touched; new peers join the index only afterwards,
    /// as they are evaluated from scratch (on a full compile every peer is new, so no identity is matched twice).
    mutating func updatePeers(_ changes: inout Changes) {
        var changedSelectors = Set<CIDRSelector>()
        var changedPeers = Set<PodPeer>()
        for (identity, key) in changes.freedIdentities {
            if let labels = key.labels {
                identitiesByNamespace[labels.namespace]?.remove(identity)
                for peer in peerIndex.matching(labels) where peers[peer]?.identities.remove(identity) != nil {
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
                for peer in peerIndex.matching(labels) {
                    peers[peer]!.identities.insert(identity)
                    changedPeers.insert(peer)
                }
            }
            for selector in key.selectors {
                identitiesBySelector[selector, default: []].insert(identity)
                changedSelectors.insert(selector)
            }
        }
        for selector in changedSelectors where identitiesBySelector[selector]?.isEmpty == true {
            identitiesBySelector[selector] = nil
        }
        for peer in changes.newPeers {
            peers[peer]!.identities = evaluate(peer)
            peerIndex.insert(peer)
        }
        for peer in changedPeers { changes.templates.formUnion(peers[peer]?.users ?? []) }
        for selector in changedSelectors { changes.templates.formUnion(selectorUsers[selector] ?? []) }
    }

    /// The pod identities a pod peer selects, from scratch.
    private func evaluate(_ peer: PodPeer) -> Set<Identity> {
        let namespaces: [String]
        switch peer.namespaces {
        case .named(let name): namespaces = [name]
        case .selected(let selector):
            namespaces = identitiesByNamespace.keys.filter { selector.matches(labels(ofNamespace: $0)) }
        }
        var result = Set<Identity>()
        for namespace in namespaces {
            for identity in identitiesByNamespace[namespace] ?? []
            where peer.podSelector.matches(allocator.keys[identity]!.labels!.podLabels) {
                result.insert(identity)
            }
        }
        return result
    }
}
