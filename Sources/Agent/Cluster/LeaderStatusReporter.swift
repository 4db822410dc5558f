import KubeClient
import KubeModel
import KubeRuntime
import Logging
import PolicyCompiler

/// The leader's share of policy status: top-level conditions, `observedGeneration` and `selectedPods` of every
/// BulwarkPolicy, removal of `status.nodes` entries of nodes that no longer run an agent, and Warning Events for
/// invalid policies of both kinds.
///
/// Why only the leader: these fields summarise all nodes' entries; one writer avoids flapping between agents that
/// see the entries at slightly different moments. Nodes are "the nodes running an agent pod" (from the pod cache),
/// which needs no extra RBAC and follows node removal, since a removed node's pods are deleted.
public actor LeaderStatusReporter {
    public static let fieldManager = "bulwark-agent/leader"

    private let client: KubeClient
    private let informers: Informers
    private let agentNamespace: String
    private let agentSelector: [String: String]
    private let recorder: EventRecorder
    private let logger: Logger
    private var results: [PolicyReference: PolicyResult] = [:]
    private var warned: [PolicyReference: Int64] = [:]

    public init(
        client: KubeClient, informers: Informers, agentNamespace: String, agentSelector: [String: String],
        recorder: EventRecorder, logger: Logger
    ) {
        self.client = client
        self.informers = informers
        self.agentNamespace = agentNamespace
        self.agentSelector = agentSelector
        self.recorder = recorder
        self.logger = logger
    }

    /// The validation results of the latest compile (identical on every node, since validation is pure).
    public func update(results: [PolicyReference: PolicyResult]) {
        self.results = results
    }

    /// How many status writes may be in flight at once.
    private let parallelWrites = 8

    /// Brings every policy's top-level status up to date; returns false when a write failed (retry later).
    ///
    /// Policies whose generation moved (a user waiting for `observedGeneration`) go first, and writes run a few at a
    /// time, so the first sync after a start on a cluster with thousands of policies does not hold up new changes.
    public func sync() async -> Bool {
        let liveNodes = Set(
            informers.pods.list(namespace: agentNamespace, matching: agentSelector)
                .filter { !$0.isTerminated }.compactMap(\.spec.nodeName))
        let policies = informers.bulwarkPolicies.list().sorted { a, b in
            let aUrgent = a.status?.observedGeneration != a.metadata.generation
            let bUrgent = b.status?.observedGeneration != b.metadata.generation
            return aUrgent && !bUrgent
        }
        var succeeded = true
        var next = policies.makeIterator()
        await withTaskGroup(of: Bool.self) { group in
            func start() {
                guard let policy = next.next() else { return }
                group.addTask { await self.syncReportingFailure(policy, liveNodes: liveNodes) }
            }
            for _ in 0..<parallelWrites { start() }
            for await result in group {
                succeeded = succeeded && result
                start()
            }
        }
        await warnAboutInvalidPolicies()
        return succeeded
    }

    /// One policy's sync; false when a write failed (logged).
    private func syncReportingFailure(_ policy: BulwarkPolicy, liveNodes: Set<String>) async -> Bool {
        do {
            try await sync(policy, liveNodes: liveNodes)
        } catch KubeError.notFound {
            // Deleted meanwhile: nothing to write.
        } catch {
            logger.warning(
                "writing policy status failed; will retry", metadata: ["policy": "\(policy.key)", "error": "\(error)"])
            return false
        }
        return true
    }

    private func sync(_ policy: BulwarkPolicy, liveNodes: Set<String>) async throws {
        let reference = PolicyReference(policy)
        let api = client.api(BulwarkPolicy.self, namespace: reference.namespace)
        let generation = policy.metadata.generation ?? 1
        let nodes = policy.status?.nodes ?? []
        // Entries of nodes without an agent: removed by index, guarded by a test of the name (the list may have
        // changed since our cache saw it; then the patch fails and the next sync retries).
        if !liveNodes.isEmpty {
            let gone = nodes.enumerated().filter { !liveNodes.contains($0.element.name) }.reversed()
            if !gone.isEmpty {
                let operations = try gone.flatMap { index, entry in
                    [
                        try JSONPatchOperation.test("/status/nodes/\(index)/name", entry.name),
                        try JSONPatchOperation.remove("/status/nodes/\(index)"),
                    ]
                }
                _ = try await api.patch(reference.name, .json(operations), subresource: .status)
                logger.info(
                    "removed status of departed nodes",
                    metadata: [
                        "policy": "\(reference)", "nodes": "\(gone.map(\.element.name))",
                    ])
            }
        }
        let live = liveNodes.isEmpty ? nodes : nodes.filter { liveNodes.contains($0.name) }
        let summary = PolicyStatusBuilder.summary(
            generation: generation, result: results[reference], nodes: live, expectedNodes: liveNodes,
            previous: policy.status?.conditions)
        let current = policy.status
        guard
            current?.observedGeneration != summary.observedGeneration || current?.conditions != summary.conditions
                || current?.selectedPods != summary.selectedPods
        else { return }
        _ = try await api.apply(
            reference.name, configuration: LeaderStatusConfiguration(reference, summary),
            fieldManager: Self.fieldManager, force: true, subresource: .status)
    }

    /// One Warning Event per invalid policy generation; the recorder aggregates repeats into a series.
    private func warnAboutInvalidPolicies() async {
        for (reference, result) in results where !result.accepted {
            let key = ObjectKey(namespace: reference.namespace, name: reference.name)
            let metadata: ObjectMeta? =
                reference.kind == .bulwarkPolicy
                ? informers.bulwarkPolicies.get(key)?.metadata : informers.networkPolicies.get(key)?.metadata
            guard let metadata, warned[reference] != metadata.generation ?? 1 else { continue }
            let apiVersion = reference.kind == .bulwarkPolicy ? BulwarkPolicy.apiVersion : NetworkPolicy.apiVersion
            let regarding = ObjectReference(
                apiVersion: apiVersion, kind: reference.kind.rawValue, namespace: reference.namespace,
                name: reference.name, uid: metadata.uid)
            do {
                try await recorder.record(
                    regarding: regarding, type: .warning, reason: "InvalidPolicy", action: "Validate",
                    note: result.errors.map(\.description).joined(separator: "; "))
                warned[reference] = metadata.generation ?? 1
            } catch {
                logger.warning("recording an event failed", metadata: ["policy": "\(reference)", "error": "\(error)"])
            }
        }
        let invalid = Set(results.filter { !$0.value.accepted }.keys)
        warned = warned.filter { invalid.contains($0.key) }
    }
}

/// The leader's apply configuration: exactly the top-level fields it owns.
struct LeaderStatusConfiguration: Encodable, Sendable {
    struct Metadata: Encodable, Sendable {
        var name: String
        var namespace: String
    }

    struct Status: Encodable, Sendable {
        var observedGeneration: Int64?
        var conditions: [Condition]?
        var selectedPods: Int64?
    }

    var metadata: Metadata
    var status: Status

    init(_ reference: PolicyReference, _ summary: BulwarkPolicyStatus) {
        metadata = Metadata(name: reference.name, namespace: reference.namespace)
        status = Status(
            observedGeneration: summary.observedGeneration, conditions: summary.conditions,
            selectedPods: summary.selectedPods)
    }
}
