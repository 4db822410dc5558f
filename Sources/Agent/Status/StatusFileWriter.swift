import Foundation
import KubeModel
import PolicyCompiler
import YAML

/// Standalone mode's status output: one YAML file per policy under `DIR/status/`, and a line on stdout whenever a
/// policy's status changes.
///
/// The files hold exactly what the agent would write to the API server (`status` with conditions and this node's
/// entry), so what a user learns in standalone mode carries over to the cluster.
public final class StatusFileWriter {
    private let directory: String
    private let node: String
    private let output: (String) -> Void
    private var written: [PolicyReference: BulwarkPolicyStatus] = [:]

    /// - Parameters:
    ///   - directory: where status files go (created when missing).
    ///   - node: the node name used for the `status.nodes` entry.
    ///   - output: receives one human-readable line per changed policy.
    public init(directory: String, node: String, output: @escaping (String) -> Void) {
        self.directory = directory
        self.node = node
        self.output = output
    }

    /// Writes the status of every policy in `outcome`; unchanged policies are not rewritten, deleted ones are removed.
    public func write(_ outcome: ReconcileOutcome) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for reference in Set(written.keys).subtracting(outcome.compiled.policies.keys) {
            try? FileManager.default.removeItem(atPath: path(for: reference))
            written[reference] = nil
            output("\(reference): deleted")
        }
        for reference in outcome.compiled.policies.keys.sorted() {
            let entry = PolicyStatusBuilder.nodeEntry(node: node, policy: reference, outcome: outcome)
            let status = PolicyStatusBuilder.summary(
                generation: outcome.generations[reference] ?? 1, result: outcome.compiled.policies[reference],
                nodes: [entry], previous: written[reference]?.conditions)
            guard status != written[reference] else { continue }
            written[reference] = status
            try document(reference, status).write(toFile: path(for: reference), atomically: true, encoding: .utf8)
            output(Self.summaryLine(reference, status))
        }
    }

    static func summaryLine(_ reference: PolicyReference, _ status: BulwarkPolicyStatus) -> String {
        let conditions = (status.conditions ?? []).map { "\($0.type)=\($0.status.rawValue)" }.joined(separator: " ")
        let entry = status.nodes?.first
        var line =
            "\(reference): \(conditions) selectedPods=\(status.selectedPods ?? 0)"
            + " entries=\(entry?.programmedEntries ?? 0)"
        if let error = entry?.error { line += " error=\"\(error)\"" }
        return line
    }

    private func document(_ reference: PolicyReference, _ status: BulwarkPolicyStatus) throws -> String {
        let apiVersion = reference.kind == .bulwarkPolicy ? BulwarkPolicy.apiVersion : NetworkPolicy.apiVersion
        let object = JSONValue.object(
            JSONObject([
                ("apiVersion", .string(apiVersion)),
                ("kind", .string(reference.kind.rawValue)),
                (
                    "metadata",
                    .object(
                        JSONObject([
                            ("name", .string(reference.name)), ("namespace", .string(reference.namespace)),
                        ]))
                ),
                ("status", try JSONValueEncoder().encode(status)),
            ]))
        return YAML.emit(object)
    }

    private func path(for reference: PolicyReference) -> String {
        "\(directory)/\(reference.kind.rawValue.lowercased()).\(reference.namespace).\(reference.name).yaml"
    }
}
