// Datapath benchmarks for the README (figures, not tests): per-packet verdict cost via BPF_PROG_TEST_RUN,
// map update rate, and veth throughput / connection rate against iptables and nftables. Needs root.
// Usage: bulwark-bench-datapath [--quick] [--only verdict|update|traffic] [--rounds N (traffic cycles or verdict
//        rounds)]
//        [--offloads on|off (traffic with 64 KB segments or MTU-sized packets only; default both)]
import Datapath
import DataplaneModel
import Foundation

let quick = CommandLine.arguments.contains("--quick")
let only = CommandLine.arguments.firstIndex(of: "--only").map { CommandLine.arguments[$0 + 1] }
let rounds = CommandLine.arguments.firstIndex(of: "--rounds").flatMap { Int(CommandLine.arguments[$0 + 1]) }
let offloads = CommandLine.arguments.firstIndex(of: "--offloads").map { CommandLine.arguments[$0 + 1] == "on" }
func selected(_ part: String) -> Bool { only == nil || only == part }
try Datapath.mountBPFFileSystem()
print(
    "# Bulwark datapath benchmarks (\(ProcessInfo.processInfo.activeProcessorCount) CPUs, load average"
        + " \(loadAverage()) at start)")
if selected("verdict") {
    try VerdictBench.run(repeatCount: quick ? 100_000 : 200_000, rounds: rounds ?? (quick ? 6 : 60))
}
if selected("update") { try UpdateBench.run() }
if selected("traffic") {
    for segmentOffloads in offloads.map({ [$0] }) ?? [true, false] {
        try TrafficBench.run(
            cycles: rounds ?? (quick ? 4 : 40), slice: quick ? 0.5 : 1, segmentOffloads: segmentOffloads)
    }
}
print("load average at end: \(loadAverage())")

func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3)
        .joined(separator: " ")
}

/// A datapath on a pin root of its own, removed afterwards.
func withDatapath<T>(_ name: String = "main", _ body: (Datapath) throws -> T) throws -> T {
    let root = "/sys/fs/bpf/bulwark-bench-\(getpid())-\(name)"
    defer { try? Datapath.removePins(at: root) }
    let datapath = try Datapath(pinRoot: root)
    return try body(datapath)
}

/// `count` ingress entries for an endpoint: filler identities with 8 entries each (ports, ranges, TCP/UDP), plus
/// `extra`. Identities repeat a few rule shapes (as pods selected by the same policies do) unless `distinct`, which
/// gives every identity a port of its own, so no two share a policy set (the worst case for the trie).
func policy(count: Int, extra: [PolicyEntry], distinct: Bool = false) -> DirectionPolicy {
    var entries = extra
    for index in 0..<max(0, count - extra.count) {
        let ports =
            distinct && index % 8 == 0
            ? PortRange(UInt16(10_000 + index / 8 % 50_000))
            : index % 5 == 0
                ? PortRange(UInt16(2000 + index % 8 * 100), UInt16(2050 + index % 8 * 100))
                : PortRange(UInt16(1000 + index % 8 * 7))
        entries.append(
            PolicyEntry(
                peer: Identity(rawValue: UInt32(10_000 + index / 8)), proto: index % 3 == 0 ? .udp : .tcp,
                ports: ports, rule: RuleID(rawValue: UInt32(100 + index))))
    }
    return DirectionPolicy(isolation: .enforce, entries: entries)
}

/// The value below which `fraction` of `values` lie (nearest rank).
func quantile(_ values: [Double], _ fraction: Double) -> Double {
    values.sorted()[Int((Double(values.count - 1) * fraction).rounded())]
}

func median(_ values: [Double]) -> Double { quantile(values, 0.5) }

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
