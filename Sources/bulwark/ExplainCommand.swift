import ArgumentParser
import DataplaneModel
import KubeModel
import Manifests
import PolicyCompiler

/// `bulwark explain --from NS/POD --to NS/POD --port 80/TCP -f DIR`: why a connection would pass or not.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain whether traffic between two pods is allowed, and by which policy rule.",
        discussion: """
            Compiles the policies, pods and namespaces found under -f as every node would, then evaluates the \
            source pod's egress and the destination pod's ingress. Prints the policies selecting each side, the \
            verdict (allowed, denied, audited) and the rule that decided. Exits 1 when the connection is denied.
            """
    )

    @Option(help: "Source pod as NAMESPACE/NAME.") var from: String
    @Option(help: "Destination pod as NAMESPACE/NAME.") var to: String
    @Option(help: "PORT/PROTOCOL (80/TCP, 53/UDP, 5000/SCTP), PORT (TCP), or ICMP / ICMPv6.") var port: String
    @Option(name: [.customShort("f"), .customLong("filename")], help: "Files or directories with the objects.")
    var paths: [String] = ["."]

    func run() async throws {
        let (number, proto) = try Self.parsePort(port)
        let (source, destination) = (try Self.parsePod(from), try Self.parsePod(to))
        let manifests = ManifestSet.load(paths)
        for diagnostic in manifests.diagnostics { print("warning: \(diagnostic)") }
        let explanation: Explanation
        do throws(ExplainError) {
            explanation = try PolicyCompiler.explain(
                manifests.snapshot(node: nil), from: source, to: destination, port: number, proto: proto)
        } catch {
            throw ValidationError(error.description)
        }
        let target = number.map { "\($0)/\(proto)" } ?? "\(proto)"
        print("\(from) -> \(to) on \(target): \(explanation.verdict)")
        for side in [explanation.source, explanation.destination] {
            print("")
            print("\(side.direction == .egress ? "Egress from" : "Ingress to") \(side.pod):")
            let policies = side.policies.map(\.description).joined(separator: ", ")
            print("  selected by: \(policies.isEmpty ? "no policy" : policies)")
            if let decision = side.decision {
                print("  remote identity: \(decision.remoteIdentity)")
                print("  verdict: \(decision.verdict) (\(side.rule))")
            } else {
                print("  verdict: allowed (\(side.rule))")
            }
        }
        if explanation.verdict == .denied { throw ExitCode(1) }
    }

    static func parsePod(_ text: String) throws -> ObjectKey {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("expected NAMESPACE/NAME, got \"\(text)\"")
        }
        return ObjectKey(namespace: String(parts[0]), name: String(parts[1]))
    }

    static func parsePort(_ text: String) throws -> (UInt16?, L4Protocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let protocols = Dictionary(uniqueKeysWithValues: L4Protocol.allCases.map { ($0.description.uppercased(), $0) })
        if parts.count == 1, let proto = protocols[text.uppercased()], !proto.hasPorts { return (nil, proto) }
        guard (1...2).contains(parts.count), let number = UInt16(parts[0]), number > 0 else {
            throw ValidationError("expected PORT/PROTOCOL such as 80/TCP, got \"\(text)\"")
        }
        let name = parts.count == 2 ? parts[1].uppercased() : "TCP"
        guard let proto = protocols[name], proto.hasPorts else {
            throw ValidationError("unknown protocol \"\(parts[1])\": expected TCP, UDP or SCTP with a port")
        }
        return (number, proto)
    }
}
