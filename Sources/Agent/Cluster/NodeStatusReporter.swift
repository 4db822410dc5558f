import KubeClient
import KubeModel
import KubeRuntime
import Logging
import PolicyCompiler

/// Writes this node's entry of `status.nodes` on every BulwarkPolicy, by server-side apply on the status subresource
/// with the field manager `bulwark-agent/<node>`.
///
/// Why server-side apply: `status.nodes` is a list-map keyed by node name, so each agent owns exactly its own entry
/// and many nodes write concurrently without conflicts or read-modify-write loops. Writes are skipped when the
/// object already carries the entry (no write storms on resyncs).
public actor NodeStatusReporter {
    private let client: KubeClient
    private let node: String
    private let fieldManager: String
    private let logger: Logger

    public init(client: KubeClient, node: String, logger: Logger) {
        self.client = client
        self.node = node
        self.fieldManager = "bulwark-agent/\(node)"
        self.logger = logger
    }

    /// How many status writes may be in flight at once.
    private let parallelWrites = 8

    /// Applies the entries that differ from what the cached objects carry.
    ///
    /// Entries whose generation moved (a spec change the user is waiting for) go first; then the rest (counts that
    /// changed, first writes after a start). Writes run a few at a time, so a start-up on a cluster with thousands
    /// of policies does not serialise thousands of round trips.
    /// - Parameter superseded: checked before each write; when it returns true a newer outcome is waiting, so
    ///   the remaining writes are abandoned (the newer outcome covers them, urgent ones first).
    /// - Returns: the number of status writes, and whether any failed (the caller retries later).
    @discardableResult
    public func report(
        _ outcome: ReconcileOutcome, policies: Store<BulwarkPolicy>, superseded: @Sendable () -> Bool = { false }
    ) async -> (writes: Int, failed: Bool) {
        var pending: [(urgent: Bool, reference: PolicyReference, entry: BulwarkPolicyNodeStatus)] = []
        for reference in outcome.compiled.policies.keys where reference.kind == .bulwarkPolicy {
            let key = ObjectKey(namespace: reference.namespace, name: reference.name)
            guard let object = policies.get(key) else { continue }
            let entry = PolicyStatusBuilder.nodeEntry(node: node, policy: reference, outcome: outcome)
            let current = object.status?.nodes?.first { $0.name == node }
            if current == entry { continue }
            pending.append((current?.observedGeneration != entry.observedGeneration, reference, entry))
        }
        pending.sort { ($0.urgent ? 0 : 1, $0.reference) < ($1.urgent ? 0 : 1, $1.reference) }
        var writes = 0
        var failed = false
        var next = pending.makeIterator()
        await withTaskGroup(of: Bool?.self) { group in
            func start() -> Bool {
                guard !superseded(), let (_, reference, entry) = next.next() else { return false }
                group.addTask { await self.write(reference, entry) }
                return true
            }
            var started = 0
            while started < parallelWrites, start() { started += 1 }
            for await result in group {
                switch result {
                case true?: writes += 1
                case false?: failed = true
                case nil: break
                }
                _ = start()
            }
        }
        return (writes, failed)
    }

    /// One server-side apply of this node's entry; nil when the policy was deleted meanwhile.
    private func write(_ reference: PolicyReference, _ entry: BulwarkPolicyNodeStatus) async -> Bool? {
        do {
            _ = try await client.api(BulwarkPolicy.self, namespace: reference.namespace).apply(
                reference.name, configuration: NodeEntryConfiguration(reference, entry), fieldManager: fieldManager,
                subresource: .status)
            return true
        } catch KubeError.notFound {
            return nil  // deleted meanwhile; the informer will tell the compiler
        } catch {
            logger.warning(
                "writing node status failed; will retry", metadata: ["policy": "\(reference)", "error": "\(error)"])
            return false
        }
    }
}

/// The apply configuration: only this node's entry, so the field manager owns nothing else (the client adds
/// `apiVersion` and `kind`).
struct NodeEntryConfiguration: Encodable, Sendable {
    struct Metadata: Encodable, Sendable {
        var name: String
        var namespace: String
    }

    struct Status: Encodable, Sendable {
        var nodes: [BulwarkPolicyNodeStatus]
    }

    var metadata: Metadata
    var status: Status

    init(_ reference: PolicyReference, _ entry: BulwarkPolicyNodeStatus) {
        metadata = Metadata(name: reference.name, namespace: reference.namespace)
        status = Status(nodes: [entry])
    }
}
