import KubeModel

/// The pod peers of all accepted policies, grouped by the namespaces they can match, so that a new or freed
/// identity is checked against the peers naming its namespace and one namespace selector per group, instead of
/// against every peer of every policy.
///
/// Why by namespace: most peers are "pods like this in my namespace" (`.named`); the rest share few distinct
/// namespace selectors (team, env, everything), so evaluating each selector once per identity is cheap.
struct PeerIndex: Sendable {
    private var byNamespace: [String: Set<PodPeer>] = [:]
    private var byNamespaceSelector: [LabelSelector: Set<PodPeer>] = [:]

    mutating func insert(_ peer: PodPeer) {
        switch peer.namespaces {
        case .named(let name): byNamespace[name, default: []].insert(peer)
        case .selected(let selector): byNamespaceSelector[selector, default: []].insert(peer)
        }
    }

    mutating func remove(_ peer: PodPeer) {
        switch peer.namespaces {
        case .named(let name):
            byNamespace[name]?.remove(peer)
            if byNamespace[name]?.isEmpty == true { byNamespace[name] = nil }
        case .selected(let selector):
            byNamespaceSelector[selector]?.remove(peer)
            if byNamespaceSelector[selector]?.isEmpty == true { byNamespaceSelector[selector] = nil }
        }
    }

    /// Every indexed peer that selects pods with `labels`.
    func matching(_ labels: LabelSet) -> [PodPeer] {
        var result: [PodPeer] = []
        for peer in byNamespace[labels.namespace] ?? [] where peer.podSelector.matches(labels.podLabels) {
            result.append(peer)
        }
        for (selector, peers) in byNamespaceSelector where selector.matches(labels.namespaceLabels) {
            for peer in peers where peer.podSelector.matches(labels.podLabels) { result.append(peer) }
        }
        return result
    }
}
