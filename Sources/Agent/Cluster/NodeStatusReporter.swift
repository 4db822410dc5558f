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

    /// Applies the entries that differ from what the cached objects carry; returns how many were written.
    /// - Returns: the number of status writes, and whether any failed (the caller retries later).
    @discardableResult
    public func report(_ outcome: ReconcileOutcome, policies: Store<BulwarkPolicy>) async -> (writes: Int, failed: Bool)
    {
        var writes = 0
        var failed = false
        for (reference, _) in outcome.compiled.policies where reference.kind == .bulwarkPolicy {
            let key = ObjectKey(namespace: reference.namespace, name: reference.name)
            guard let object = policies.get(key) else { continue }
            let entry = PolicyStatusBuilder.nodeEntry(node: node, policy: reference, outcome: outcome)
            if object.status?.nodes?.first(where: { $0.name == node }) == entry { continue }
            do {
                _ = try await client.api(BulwarkPolicy.self, namespace: reference.namespace).apply(
                    reference.name, configuration: NodeEntryConfiguration(reference, entry),
                    fieldManager: fieldManager, subresource: .status)
                writes += 1
            } catch KubeError.notFound {
                continue  // deleted meanwhile; the informer will tell the compiler
            } catch {
                failed = true
                logger.warning(
                    "writing node status failed; will retry",
                    metadata: ["policy": "\(reference)", "error": "\(error)"])
            }
        }
        return (writes, failed)
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
