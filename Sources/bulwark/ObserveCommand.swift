import Agent
import ArgumentParser
import Datapath
import DataplaneModel
import Foundation

/// `bulwark observe`: stream deny and audit events with pod and policy names.
struct ObserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observe",
        abstract: "Stream a node's deny and audit events (5-tuple, pod, remote identity, deciding rule)."
    )

    @OptionGroup var node: NodeOptions

    @Option(name: .long, help: "Stop after this many seconds (default: run until interrupted).")
    var duration: Double?

    func run() async throws {
        let datapath = try Datapath(pinRoot: node.pinRoot)
        let events = datapath.events()
        let namesFile = node.namesFile
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var names = NodeNames.read(from: namesFile)
                for await event in events {
                    // A pod that appeared after we started: its name is in a newer names file.
                    if names.endpoints[event.ifindex] == nil { names = NodeNames.read(from: namesFile) }
                    printLine(Self.format(event, names: names))
                }
            }
            if let duration {
                group.addTask { try? await Task.sleep(for: .milliseconds(Int(duration * 1000))) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    static func format(_ event: DatapathEvent, names: NodeNames) -> String {
        let proto = L4Protocol(rawValue: event.proto).map(\.description) ?? "proto \(event.proto)"
        let source = endpoint(event.source, event.sourcePort, proto)
        let destination = endpoint(event.destination, event.destinationPort, proto)
        let verdict = event.verdict == .deny ? "DENY " : "AUDIT"
        let pod = names.endpoint(event.ifindex)
        let remote = names.identity(event.remoteIdentity)
        let why = event.reason == .policy ? names.rule(event.rule, verdict: event.verdict) : "\(event.reason)"
        return
            "\(verdict) \(event.direction) \(pod)  \(source) -> \(destination) \(proto)  remote: \(remote)  by: \(why)"
    }

    private static func endpoint(_ address: IPAddress?, _ port: UInt16, _ proto: String) -> String {
        let host = address.map { $0.isV4 ? "\($0)" : "[\($0)]" } ?? "?"
        return ["TCP", "UDP", "SCTP"].contains(proto) ? "\(host):\(port)" : host
    }
}
