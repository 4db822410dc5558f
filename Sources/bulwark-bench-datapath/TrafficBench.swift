import BulwarkTesting
import Datapath
import DataplaneModel
import Foundation

/// Throughput (one iperf3 TCP stream) and connection rate (a connect/echo/close loop) from pod A to pod B over veths
/// and host routing, with: no program, Bulwark at 1,000 rules, the same policy as a linear iptables chain, and as
/// an nftables set (both stateful like Bulwark: established traffic accepted first).
///
/// This VM's throughput drifts by ±20% within seconds, more than the configurations differ, so samples taken one
/// after another in separate runs mostly measure the drift. Instead one stream (and one connection loop) runs
/// throughout while the configurations take turns under it in short slices, rotated every cycle; each slice is
/// compared with the baseline slice of its own cycle, a second or two away. A second baseline configuration measures
/// the method's own resolution (what two identical configurations differ by).
///
/// Everything the traffic costs runs on CPU 0: both iperf3 ends, the echo server and the connection loop, and the
/// softirqs that carry their packets through both veths and the host's routing (a veth delivers on the sending CPU).
/// The CPU is then always busy, and a configuration's throughput is that CPU's capacity divided by its cost per byte.
/// With the two ends on two vCPUs the stream's rate also hangs on cross-CPU wake-ups (an idle vCPU halts, and waking
/// it costs an exit to the hypervisor): two identical configurations differed by 85-143% (middle half of the cycles)
/// against 89-109% on one CPU. The benchmark's own work (switching configurations, reading counters) is kept on
/// CPU 1.
enum TrafficBench {
    static let rules = 1_000
    /// Time after a configuration is put in place before its slice is counted (netfilter loading rules, the
    /// stream's congestion window settling).
    static let settle = 0.3

    /// - Parameter segmentOffloads: false turns TSO, GSO and GRO off on both veth pairs, so TCP sends MTU-sized
    ///   packets and the per-packet cost of each configuration shows (with offloads, one 64 KB segment carries ~45
    ///   packets' worth of data past each program or rule set).
    static func run(cycles: Int, slice: Double, segmentOffloads: Bool) throws {
        let a = try NetNSPod()
        let b = try NetNSPod()
        if !segmentOffloads {
            for pod in [a, b] {
                try NetNSPod.sh(
                    "ip", "netns", "exec", pod.namespace, "ethtool", "-K", "eth0", "tso", "off", "gso", "off", "gro",
                    "off")
                try NetNSPod.sh("ethtool", "-K", pod.hostInterface, "tso", "off", "gso", "off", "gro", "off")
            }
        }
        // Creating or deleting a qdisc deactivates the device for a moment (packets sent meanwhile are dropped, and
        // the stream stalls into the next slice), so both veths keep an empty clsact qdisc in every configuration;
        // without filters it costs a packet two pointer loads.
        for pod in [a, b] { try NetNSPod.sh("tc", "qdisc", "add", "dev", pod.hostInterface, "clsact") }
        try pinSelf(toCPU: 1)
        // The connection loop opens tens of thousands of connections: let the client reuse TIME_WAIT ports
        // (per-namespace settings) so it does not slow down on port exhaustion.
        try NetNSPod.sh(
            "ip", "netns", "exec", a.namespace, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1",
            "net.ipv4.ip_local_port_range=10000 65000")
        let server = try start(["ip", "netns", "exec", b.namespace, "iperf3", "-s", "-p", "5201"])
        defer { stop(server) }
        let echo = try start([
            "ip", "netns", "exec", b.namespace, "taskset", "-c", "0", "python3", "-c", echoServer, "8080",
        ])
        defer { stop(echo) }
        Thread.sleep(forTimeInterval: 0.5)
        let fillers = (0..<(rules - 2)).map { ("10.214.\($0 / 250).\($0 % 250 + 1)", UInt16(10_000 + $0 % 5_000)) }
        let allowed = fillers + [(a.address, UInt16(5201)), (a.address, UInt16(8080))]

        try withDatapath { datapath in
            let bulwark = try TrafficConfiguration.bulwark(datapath, a: a, b: b, allowed: allowed)
            let configurations = [
                .none("no program (baseline)"), bulwark, .iptables(b: b, allowed: allowed),
                .nftables(b: b, allowed: allowed), .none("no program again (the method's resolution)"),
            ]
            let seconds = Double(cycles * configurations.count) * (slice + settle + 0.2) + 20
            let stream = try start([
                "ip", "netns", "exec", a.namespace, "iperf3", "-c", b.address, "-p", "5201", "-A", "0,0", "-t",
                "\(Int(seconds))",
            ])
            Thread.sleep(forTimeInterval: 1.5)
            let sentToB = "/sys/class/net/\(b.hostInterface)/statistics/tx_bytes"
            let gbps = try interleave(configurations, cycles: cycles, slice: slice, while: stream) {
                try Double(counter(sentToB)) * 8 / 1e9
            }
            try bulwark.install()
            let runCost = try meanRunTime(datapath) { Thread.sleep(forTimeInterval: 2) }
            try bulwark.remove()
            stop(stream)

            let loop = try start([
                "ip", "netns", "exec", a.namespace, "taskset", "-c", "0", "python3", "-c", connectLoop, b.address,
                "8080",
            ])
            defer { stop(loop) }
            Thread.sleep(forTimeInterval: 1)
            let rates = try interleave(configurations, cycles: cycles, slice: slice, while: loop) {
                try Double(passiveOpens(inNetworkNamespaceOf: server.processIdentifier))
            }
            report(
                configurations, gbps: gbps, rates: rates, runCost: runCost, cycles: cycles, slice: slice,
                segmentOffloads: segmentOffloads)
        }
    }

    /// Rates (per second, of `count`) of every configuration in every cycle: each takes a slice in turn, starting
    /// one further along each cycle, so what ran just before and slow drifts fall on every configuration alike.
    static func interleave(
        _ configurations: [TrafficConfiguration], cycles: Int, slice: Double, while load: Process,
        count: () throws -> Double
    ) throws -> [[Double]] {
        var rates = Array(repeating: [Double](), count: configurations.count)
        for cycle in 0..<cycles {
            for step in configurations.indices {
                let index = (step + cycle) % configurations.count
                try configurations[index].install()
                do {
                    Thread.sleep(forTimeInterval: settle)
                    let (start, before) = (ContinuousClock.now, try count())
                    Thread.sleep(forTimeInterval: slice)
                    let (end, after) = (ContinuousClock.now, try count())
                    guard load.isRunning else { throw NetNSError(command: "traffic generator ended early", output: "") }
                    rates[index].append((after - before) / ((end - start) / .seconds(1)))
                } catch {
                    try? configurations[index].remove()
                    throw error
                }
                try configurations[index].remove()
            }
        }
        return rates
    }

    static func report(
        _ configurations: [TrafficConfiguration], gbps: [[Double]], rates: [[Double]],
        runCost: (nanoseconds: Double, runsPerSecond: Double), cycles: Int, slice: Double, segmentOffloads: Bool
    ) {
        let packets = segmentOffloads ? "64 KB segments (offloads on)" : "MTU-sized packets (TSO, GSO and GRO off)"
        print(
            "\n## Veth throughput and connection rate, \(packets): one stream / one connection loop throughout,"
                + " configurations taking turns in \(format(slice)) s slices (after \(format(settle)) s to settle),"
                + " \(cycles) cycles rotated; all traffic on CPU 0 (iperf3 client and server, connection loop and"
                + " echo server, their softirqs), the benchmark on CPU 1; A -> host routing -> B")
        // A nat chain anywhere in the host namespace (kube-proxy, Docker, a test that did not clean up) turns on
        // connection tracking for every packet, the baseline's too, which narrows every configuration's gap.
        let ruleset = (try? NetNSPod.sh("nft", "list", "ruleset")) ?? ""
        let natChains = ruleset.components(separatedBy: "type nat hook").count - 1
        if natChains > 0 {
            print(
                "Note: \(natChains) nat chains in the host namespace: connection tracking runs in every"
                    + " configuration.")
        }
        print(
            "Bulwark's programs with kernel BPF statistics on (2 s of the stream, not a counted slice): mean run time"
                + " \(format(runCost.nanoseconds, 0)) ns per packet, \(format(runCost.runsPerSecond / 1e3, 0))k runs/s")
        print(
            "| configuration | Gbit/s (median) | vs baseline: median of per-cycle ratios (middle half) |"
                + " ratio of means | connections/s (median) | vs baseline (middle half) | ratio of means |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for index in configurations.indices {
            print(
                "| \(configurations[index].name) | \(format(median(gbps[index]), 2)) |"
                    + " \(compared(gbps[index], gbps[0])) | \(format(median(rates[index]), 0)) |"
                    + " \(compared(rates[index], rates[0])) |")
        }
    }

    /// "median% (25th–75th percentile%) | ratio of means%" of a configuration's per-cycle ratios to the baseline.
    static func compared(_ values: [Double], _ baseline: [Double]) -> String {
        let ratios = zip(values, baseline).map { 100 * $0 / $1 }.sorted()
        let quartile = { (q: Double) in ratios[Int(q * Double(ratios.count - 1))] }
        let means = 100 * values.reduce(0, +) / baseline.reduce(0, +)
        return "\(format(median(ratios)))% (\(format(quartile(0.25)))–\(format(quartile(0.75)))%) | \(format(means))%"
    }

    /// The mean run time of both programs per packet while `body` runs, from the kernel's BPF statistics. They are
    /// on only here (kernel.bpf_stats_enabled adds two clock reads to every run of every program), not while
    /// throughput is compared.
    static func meanRunTime(_ datapath: Datapath, during body: () throws -> Void) throws -> (
        nanoseconds: Double, runsPerSecond: Double
    ) {
        func totals() throws -> (runs: Int, nanoseconds: Int) {
            var total = (runs: 0, nanoseconds: 0)
            for program in ["from_container", "to_container"] {
                let json = try NetNSPod.sh("bpftool", "-j", "prog", "show", "pinned", datapath.pinRoot + "/" + program)
                let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
                total.runs += object?["run_cnt"] as? Int ?? 0
                total.nanoseconds += object?["run_time_ns"] as? Int ?? 0
            }
            return total
        }
        try NetNSPod.sh("sysctl", "-qw", "kernel.bpf_stats_enabled=1")
        defer { _ = try? NetNSPod.sh("sysctl", "-qw", "kernel.bpf_stats_enabled=0") }
        let before = try totals()
        let start = Date()
        try body()
        let elapsed = Date().timeIntervalSince(start)
        let after = try totals()
        let runs = after.runs - before.runs
        return (Double(after.nanoseconds - before.nanoseconds) / Double(max(runs, 1)), Double(runs) / elapsed)
    }

    /// An integer counter file (an interface statistic).
    static func counter(_ path: String) throws -> Int {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw NetNSError(command: "read \(path)", output: text)
        }
        return value
    }

    /// TCP connections accepted in the network namespace of a process (Tcp PassiveOpens of its /proc/PID/net/snmp).
    static func passiveOpens(inNetworkNamespaceOf pid: Int32) throws -> Int {
        let lines = try String(contentsOfFile: "/proc/\(pid)/net/snmp", encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("Tcp:") }.map { $0.split(separator: " ") }
        guard lines.count == 2, let column = lines[0].firstIndex(of: "PassiveOpens"), let value = Int(lines[1][column])
        else { throw NetNSError(command: "read Tcp PassiveOpens of process \(pid)", output: "") }
        return value
    }

    /// Accepts one connection at a time, echoes its byte and closes it: the connection loop's peer, as cheap and
    /// single-threaded as the loop itself (no thread per connection to schedule).
    static let echoServer = """
        import socket, sys
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", int(sys.argv[1])))
        listener.listen(128)
        while True:
            connection, _ = listener.accept()
            connection.settimeout(2)
            try:
                connection.sendall(connection.recv(1))
            except OSError:
                pass
            connection.close()
        """

    /// Connects, sends a byte, reads the echo and closes, forever; a connection caught by a configuration change
    /// that times out is simply not counted.
    static let connectLoop = """
        import socket, sys
        host, port = sys.argv[1], int(sys.argv[2])
        while True:
            try:
                s = socket.create_connection((host, port), timeout=2); s.sendall(b"x"); s.recv(1); s.close()
            except OSError:
                pass
        """

    /// Pins the benchmark's main thread, which runs it and starts every process it uses, to one CPU (the processes
    /// inherit it unless they pin themselves).
    static func pinSelf(toCPU cpu: Int) throws {
        try NetNSPod.sh("taskset", "-pc", "\(cpu)", "\(getpid())")
    }

    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func stop(_ process: Process) {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
