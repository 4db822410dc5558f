import Agent
import ArgumentParser
import Datapath
import DataplaneModel

/// `bulwark inspect`: what a node's datapath holds right now.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a node's endpoints, per-rule counters and datapath statistics from the pinned maps."
    )

    @OptionGroup var node: NodeOptions

    func run() throws {
        let datapath = try Datapath(pinRoot: node.pinRoot)
        let names = NodeNames.read(from: node.namesFile)
        print("endpoints (pods with policy programs):")
        for (ifindex, pod) in names.endpoints.sorted(by: { $0.value < $1.value }) {
            print("  \(pod.padding(toLength: 24, withPad: " ", startingAt: 0)) ifindex \(ifindex)")
        }
        print("per-rule counters:")
        let counters = try datapath.counters().sorted {
            ($0.rule, $0.verdict.rawValue) < ($1.rule, $1.verdict.rawValue)
        }
        if counters.isEmpty { print("  (no packet has been judged by a rule yet)") }
        for counter in counters {
            let verdict = "\(counter.verdict)".padding(toLength: 6, withPad: " ", startingAt: 0)
            let packets = String(counter.packets).leftPadded(8)
            let bytes = String(counter.bytes).leftPadded(10)
            print("  \(verdict) \(packets) pkts \(bytes) bytes  \(names.rule(counter.rule, verdict: counter.verdict))")
        }
        let stats = try datapath.statistics()
        print("datapath totals:")
        print("  allowed by policy \(stats.policyAllowed), denied \(stats.policyDenied), audited \(stats.audited)")
        print("  conntrack hits \(stats.conntrackHits), malformed \(stats.malformed), events lost \(stats.eventsLost)")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
