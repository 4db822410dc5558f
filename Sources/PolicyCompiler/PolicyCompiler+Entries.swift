import DataplaneModel
import KubeModel

extension PolicyCompiler {
    /// Rule ids of a policy, in direction then rule order.
    func ruleIDs(of policy: ValidatedPolicy) -> [RuleID] {
        Direction.allCases.flatMap { direction in
            (policy.rules(direction) ?? []).map { ruleID(policy.reference, direction, $0.index) }
        }
    }

    /// The id of one rule: a hash of (policy, direction, index), probed past collisions, so counters and events
    /// keep their meaning across restarts and recompiles.
    func ruleID(_ reference: PolicyReference, _ direction: Direction, _ index: Int) -> RuleID {
        let info = RuleInfo(policy: reference.description, direction: direction, index: index)
        let space = UInt64(UInt32.max) - UInt64(Identity.firstAllocated)
        var number = UInt64(Identity.firstAllocated) + IdentityAllocator.fnv1a("\(reference)\u{1}\(direction)\u{1}\(index)") % space
        while let owner = ruleInfo[RuleID(rawValue: UInt32(number))], owner != info {
            number = UInt64(Identity.firstAllocated) + (number - UInt64(Identity.firstAllocated) + 1) % space
        }
        return RuleID(rawValue: UInt32(number))
    }

    mutating func allocateRuleIDs(for policy: ValidatedPolicy) {
        for direction in Direction.allCases {
            for rule in policy.rules(direction) ?? [] {
                let id = ruleID(policy.reference, direction, rule.index)
                ruleInfo[id] = RuleInfo(policy: policy.reference.description, direction: direction, index: rule.index)
            }
        }
    }

    /// A policy's entries for any target: peers expanded to identities, egress named ports resolved on each
    /// destination identity (all pods of an identity share their named ports, see `LabelSet`).
    func buildTemplates(_ policy: ValidatedPolicy) -> PolicyTemplates {
        var result = PolicyTemplates()
        for direction in Direction.allCases {
            guard let rules = policy.rules(direction) else { continue }
            var templates: [EntryTemplate] = []
            for rule in rules {
                let id = ruleID(policy.reference, direction, rule.index)
                let identities = rule.peers.map(peerIdentities)
                func add(_ peers: [Identity]?, _ proto: L4Protocol?, _ ports: EntryTemplate.Ports) {
                    for peer in peers ?? [.any] {
                        templates.append(
                            EntryTemplate(
                                peer: peer, proto: proto, ports: ports, action: rule.action, mode: policy.mode, rule: id))
                    }
                }
                guard let ports = rule.ports else {
                    add(identities, nil, .all)
                    continue
                }
                for port in ports {
                    switch port.ports {
                    case .all: add(identities, port.proto, .all)
                    case .range(let range): add(identities, port.proto, .range(range))
                    case .named(let name) where direction == .ingress: add(identities, port.proto, .named(name))
                    case .named(let name):
                        for peer in identities ?? peers[.allPods].map({ $0.identities.sorted() }) ?? [] {
                            guard let number = allocator.keys[peer]?.labels?.resolve(name, proto: port.proto) else { continue }
                            add([peer], port.proto, .range(PortRange(number)))
                        }
                    }
                }
            }
            if direction == .ingress { result.ingress = templates } else { result.egress = templates }
        }
        return result
    }

    /// Identities matching any of `peers`, sorted. An ipBlock containing one of the node's addresses also matches
    /// the `host` identity. Most rules name one peer: its cached set is then sorted as is, not copied element by
    /// element into a union.
    private func peerIdentities(_ peers: [Peer]) -> [Identity] {
        var result: Set<Identity>?
        var host = false
        for peer in peers {
            let identities: Set<Identity>
            switch peer {
            case .pods(let pods): identities = self.peers[pods]?.identities ?? []
            case .cidr(let selector):
                identities = identitiesBySelector[selector] ?? []
                host = host || nodeAddresses.contains { selector.contains(IPPrefix(host: $0)) }
            }
            if result == nil { result = identities } else { result!.formUnion(identities) }
        }
        // Cached sets hold allocated identities only, all above `host`.
        return (host ? [.host] : []) + (result ?? []).sorted()
    }

    /// Rebuilds the endpoints of `keys` from their selecting policies' templates. Returns the policies whose entry
    /// counts were touched.
    ///
    /// An endpoint's entries depend only on the policies selecting it and its named ports, so they are built once
    /// per distinct pair in a rebuild and shared (copy-on-write) by every replica with that pair.
    mutating func rebuildEndpoints(_ keys: Set<ObjectKey>) -> Set<PolicyReference> {
        var membershipChanged = false
        var counted = Set<PolicyReference>()
        var built: [EndpointShape: EndpointPolicies] = [:]
        for key in keys {
            for (reference, count) in endpointEntryCounts.removeValue(forKey: key) ?? [:] {
                policyEntryCounts[reference, default: 0] -= count
                counted.insert(reference)
            }
            guard let pod = pods[key], isLocal(pod) else {
                if endpoints.removeValue(forKey: key) != nil { membershipChanged = true }
                continue
            }
            let shape = EndpointShape(policies: (endpointPolicies[key] ?? []).sorted(), namedPorts: pod.namedPorts)
            let policies = built[shape] ?? buildPolicies(shape)
            built[shape] = policies
            let endpoint = Endpoint(
                pod: key.description, addresses: pod.addresses, identity: podIdentities[key]?.first?.identity ?? .world,
                ingress: policies.ingress, egress: policies.egress)
            if endpoints.updateValue(endpoint, forKey: key) == nil { membershipChanged = true }
            endpointEntryCounts[key] = policies.counts
            for (reference, count) in policies.counts {
                policyEntryCounts[reference, default: 0] += count
                counted.insert(reference)
            }
        }
        if membershipChanged { endpointOrder = endpoints.keys.sorted() }
        return counted
    }

    /// Both directions' entries for endpoints of one shape, and how many entries each policy contributed.
    private func buildPolicies(_ shape: EndpointShape) -> EndpointPolicies {
        var result = EndpointPolicies()
        for direction in Direction.allCases {
            var isolation = Isolation.none
            var entries: [PolicyEntry] = []
            for reference in shape.policies {
                guard let templates = templates[reference]?.entries(direction) else { continue }
                isolation = max(isolation, activePolicies[reference]!.mode == .enforce ? .enforce : .audit)
                var added = 0
                for template in templates {
                    var ports: PortRange?
                    switch template.ports {
                    case .all: ports = nil
                    case .range(let range): ports = range
                    case .named(let name):
                        guard let number = shape.namedPorts.first(where: {
                            $0.name == name && $0.protocol == template.proto?.description
                        }).flatMap({ UInt16(exactly: $0.port) }) else { continue }
                        ports = PortRange(number)
                    }
                    entries.append(
                        PolicyEntry(
                            peer: template.peer, proto: template.proto, ports: ports, action: template.action,
                            mode: template.mode, rule: template.rule))
                    added += 1
                }
                result.counts[reference, default: 0] += added
            }
            if isolation != .none {
                entries.append(PolicyEntry(peer: .host, rule: direction == .ingress ? .nodeIngress : .nodeEgress))
            }
            // `precedes` orders by every field, so equal entries end up adjacent.
            entries.sort(by: PolicyEntry.precedes)
            var unique: [PolicyEntry] = []
            unique.reserveCapacity(entries.count)
            for entry in entries where unique.last != entry { unique.append(entry) }
            let policy = DirectionPolicy(isolation: isolation, entries: unique)
            if direction == .ingress { result.ingress = policy } else { result.egress = policy }
        }
        return result
    }

    /// The published result: endpoints in pod order, the sorted ipcache, rule meanings and per-policy outcomes.
    func result() -> CompileResult {
        let desired = DesiredState(endpoints: endpointOrder.map { endpoints[$0]! }, ipcache: ipcache.entries, rules: ruleInfo)
        return CompileResult(desired: desired, policies: policyResults, identities: allocator.keys)
    }
}

/// What an endpoint's entries depend on: the policies selecting it (sorted) and its named ports.
struct EndpointShape: Hashable {
    var policies: [PolicyReference]
    var namedPorts: [NamedPort]
}

/// The entries of one endpoint shape, and each policy's share of them (for `PolicyResult.programmedEntries`).
struct EndpointPolicies {
    var ingress = DirectionPolicy()
    var egress = DirectionPolicy()
    var counts: [PolicyReference: Int] = [:]
}
