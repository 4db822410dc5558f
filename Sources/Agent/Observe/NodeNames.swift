import Datapath
import DataplaneModel
import Foundation
import PolicyCompiler

/// Human names for the numbers in BPF maps and events: interface -> pod, identity -> labels, rule -> policy.
///
/// Why a file: `bulwark observe` and `bulwark inspect` run as separate processes next to the agent (for example via
/// `kubectl exec`) and read the pinned maps directly; the agent writes this file after every reconcile that changed
/// it, so those commands can say "x/a -> y/b denied by BulwarkPolicy y/deny-db ingress[0]" instead of numbers.
public struct NodeNames: Codable, Hashable, Sendable {
    public var endpoints: [UInt32: String] = [:]
    public var identities: [UInt32: String] = [:]
    public var rules: [UInt32: String] = [:]

    public init() {}

    /// Names for everything in a compile result (only resolved endpoints have an interface to name).
    public init(_ compiled: CompileResult) {
        for endpoint in compiled.desired.endpoints where endpoint.ifindex != 0 {
            endpoints[endpoint.ifindex] = endpoint.pod
        }
        for (identity, key) in compiled.identities { identities[identity.rawValue] = Self.describe(key) }
        identities[Identity.host.rawValue] = "host"
        identities[Identity.world.rawValue] = "world"
        for (rule, info) in compiled.desired.rules {
            rules[rule.rawValue] = "\(info.policy) \(info.direction)[\(info.index)]"
        }
    }

    public func endpoint(_ ifindex: UInt32) -> String { endpoints[ifindex] ?? "ifindex \(ifindex)" }
    public func identity(_ identity: Identity) -> String { identities[identity.rawValue] ?? "identity \(identity)" }
    /// The rule's policy and position; rule 0 means no rule decided, so what it means depends on the verdict.
    public func rule(_ rule: RuleID, verdict: DatapathVerdict) -> String {
        guard rule == .defaultDeny else { return rules[rule.rawValue] ?? "rule \(rule)" }
        switch verdict {
        case .deny: return "default deny (isolated, no rule allows)"
        case .audit: return "audit default (an Audit policy isolates, no rule allows)"
        case .allow: return "no rule (not isolated, or an established connection)"
        }
    }

    static func describe(_ key: IdentityKey) -> String {
        var parts: [String] = []
        if let labels = key.labels {
            let podLabels = labels.podLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            parts.append("ns=\(labels.namespace)" + (podLabels.isEmpty ? "" : " " + podLabels.joined(separator: ",")))
        }
        if !key.cidrSelectors.isEmpty { parts.append("cidr " + key.cidrSelectors.joined(separator: ",")) }
        return parts.isEmpty ? "world" : parts.joined(separator: " ")
    }

    /// Writes the file atomically (readers never see half a file).
    public func write(to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads the file; an absent file gives empty names (numbers are printed instead).
    public static func read(from path: String) -> NodeNames {
        guard let data = FileManager.default.contents(atPath: path),
            let names = try? JSONDecoder().decode(NodeNames.self, from: data)
        else { return NodeNames() }
        return names
    }
}
