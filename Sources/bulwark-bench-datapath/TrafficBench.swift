import BulwarkTesting
import Datapath
import DataplaneModel
import Foundation

/// Throughput (iperf3, one TCP stream) and connection rate (connect/echo/close loop) from pod A to pod B over
/// veths and host routing, with: no program, Bulwark at 1,000 rules, the same policy as a linear iptables chain,
/// and as an nftables set. Netfilter variants are stateful like Bulwark (established traffic accepted first).
/// Single samples on a shared 2-core VM vary by ±20%, more than the configurations differ, so the figures that count
/// are medians of paired per-round ratios over rotated, pinned, warmed-up runs.
enum TrafficBench {
    static let rules = 1_000

    /// - Parameter segmentOffloads: false turns TSO, GSO and GRO off on both veth pairs, so TCP sends MTU-sized
    ///   packets and the per-packet cost of each configuration shows (with offloads, one 64 KB segment carries ~45
    ///   packets' worth of data past each program or rule set).
    static func run(seconds: Int, rounds: Int, segmentOffloads: Bool) throws {
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
        try b.serve(tcp: [8080])
        // The connection loop opens thousands of connections per sample: let the client reuse TIME_WAIT ports
        // (per-namespace settings) so later samples do not slow down on port exhaustion.
        try NetNSPod.sh(
            "ip", "netns", "exec", a.namespace, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1",
            "net.ipv4.ip_local_port_range=10000 65000")
        let iperf = try startIperfServer(in: b)
        defer { iperf.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        let fillers = (0..<(rules - 2)).map { ("10.214.\($0 / 250).\($0 % 250 + 1)", UInt16(10_000 + $0 % 5_000)) }
        let allowed = fillers + [(a.address, UInt16(5201)), (a.address, UInt16(8080))]

        let names = [
            "no program (baseline)", "Bulwark, \(rules) rules", "iptables, \(rules) rules (linear chain)",
            "nftables, \(rules) rules (set lookup)",
        ]
        var gbps = Array(repeating: [Double](), count: names.count)
        var rates = gbps
        func measure(_ index: Int) throws {
            func sample() throws {
                gbps[index].append(try throughput(from: a, to: b, seconds: seconds))
                rates[index].append(try connectionRate(from: a, to: b, seconds: seconds))
            }
            switch index {
            case 1:
                try withDatapath { datapath in
                    try programBulwark(datapath, a: a, b: b, allowed: allowed)
                    defer { for pod in [a, b] { _ = try? datapath.detach(ifindex: pod.ifindex) } }
                    try sample()
                }
            case 2: try withIptables(b: b, allowed: allowed, sample)
            case 3: try withNftables(b: b, allowed: allowed, sample)
            default: try sample()
            }
        }
        // Every round measures all configurations, starting one further along each time, so slow drifts in machine
        // load and what ran just before (caches, a socket's lingering state) fall on each configuration alike; each
        // configuration is then compared with the baseline of its own round (paired ratios), not with an average.
        for round in 0..<rounds {
            for step in names.indices { try measure((step + round) % names.count) }
        }
        let runCost = try withDatapath { datapath in
            try programBulwark(datapath, a: a, b: b, allowed: allowed)
            defer { for pod in [a, b] { _ = try? datapath.detach(ifindex: pod.ifindex) } }
            return try meanRunTime(datapath) { _ = try throughput(from: a, to: b, seconds: seconds) }
        }
        // A nat chain anywhere in the host namespace (kube-proxy, Docker, a test that did not clean up) turns on
        // connection tracking for every packet, the baseline's too, which narrows every configuration's gap.
        let ruleset = (try? NetNSPod.sh("nft", "list", "ruleset")) ?? ""
        let natChains = ruleset.components(separatedBy: "type nat hook").count - 1
        if natChains > 0 {
            print("\nNote: \(natChains) nat chains in the host namespace: connection tracking runs in every configuration.")
        }
        let packets = segmentOffloads ? "64 KB segments (offloads on)" : "MTU-sized packets (TSO, GSO and GRO off)"
        print(
            "\n## Veth throughput and connection rate, \(packets) (\(seconds) s per sample after 1 s of warm-up,"
                + " \(rounds) rounds, configurations rotated per round; iperf3 client on CPU 0, server on CPU 1;"
                + " A -> host routing -> B)")
        print(
            "Bulwark's programs in an extra throughput sample with kernel BPF statistics on: mean run time"
                + " \(format(runCost.nanoseconds, 0)) ns per packet, \(format(runCost.runsPerSecond / 1e3, 0))k runs/s")
        print(
            "| configuration | Gbit/s (median) | vs baseline: median of per-round ratios (range) | ratio of medians |"
                + " samples Gbit/s | connections/s (median) | vs baseline (range) | samples conn/s |")
        print("|---|---:|---:|---:|---|---:|---:|---|")
        for index in names.indices {
            let throughputRatios = zip(gbps[index], gbps[0]).map { 100 * $0 / $1 }
            let rateRatios = zip(rates[index], rates[0]).map { 100 * $0 / $1 }
            let throughputSamples = gbps[index].map { format($0, 1) }.joined(separator: " ")
            let rateSamples = rates[index].map { format($0, 0) }.joined(separator: " ")
            print(
                "| \(names[index]) | \(format(median(gbps[index]), 2)) | \(summary(throughputRatios)) |"
                    + " \(format(100 * median(gbps[index]) / median(gbps[0])))% | \(throughputSamples) |"
                    + " \(format(median(rates[index]), 0)) | \(summary(rateRatios)) | \(rateSamples) |")
        }
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

    /// "median% (min–max%)" of per-round ratios.
    static func summary(_ ratios: [Double]) -> String {
        "\(format(median(ratios)))% (\(format(ratios.min() ?? 0))–\(format(ratios.max() ?? 0))%)"
    }

    static func programBulwark(_ datapath: Datapath, a: NetNSPod, b: NetNSPod, allowed: [(String, UInt16)]) throws {
        var ipcache: [IPCacheEntry] = []
        var entries: [PolicyEntry] = []
        for (index, (address, port)) in allowed.enumerated() {
            let identity = Identity(rawValue: UInt32(10_000 + index))
            ipcache.append(IPCacheEntry(prefix: IPPrefix(host: IPAddress(address)!), identity: identity))
            entries.append(
                PolicyEntry(
                    peer: identity, proto: .tcp, ports: PortRange(port), rule: RuleID(rawValue: UInt32(index + 1))))
        }
        // a's two rules share one address, so one identity: the later ipcache entry wins in a real compiler too.
        let aIdentity = ipcache.last!.identity
        ipcache.removeLast()
        ipcache[ipcache.count - 1].identity = aIdentity
        entries[entries.count - 2].peer = aIdentity
        let desired = DesiredState(
            endpoints: [
                Endpoint(pod: "bench/a", addresses: [], identity: aIdentity, ifindex: a.ifindex),
                Endpoint(
                    pod: "bench/b", addresses: [], identity: Identity(rawValue: 9_999), ifindex: b.ifindex,
                    ingress: DirectionPolicy(isolation: .enforce, entries: entries)),
            ],
            ipcache: ipcache)
        try datapath.program(desired)
        for pod in [a, b] { try datapath.attach(ifindex: pod.ifindex) }
    }

    static func withIptables(b: NetNSPod, allowed: [(String, UInt16)], _ body: () throws -> Void) throws {
        let chain = "BWBENCH\(getpid())"
        var script = "*filter\n:\(chain) - [0:0]\n-A FORWARD -o \(b.hostInterface) -j \(chain)\n"
        script += "-A \(chain) -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
        for (address, port) in allowed { script += "-A \(chain) -s \(address)/32 -p tcp --dport \(port) -j ACCEPT\n" }
        script += "-A \(chain) -j DROP\nCOMMIT\n"
        try load(script, with: ["iptables-restore", "--noflush"])
        defer {
            _ = try? NetNSPod.sh("iptables", "-D", "FORWARD", "-o", b.hostInterface, "-j", chain)
            _ = try? NetNSPod.sh("iptables", "-F", chain)
            _ = try? NetNSPod.sh("iptables", "-X", chain)
        }
        try body()
    }

    static func withNftables(b: NetNSPod, allowed: [(String, UInt16)], _ body: () throws -> Void) throws {
        let table = "bwbench\(getpid())"
        let elements = allowed.map { "\($0.0) . \($0.1)" }.joined(separator: ", ")
        let script = """
            table inet \(table) {
                set allowed { type ipv4_addr . inet_service; elements = { \(elements) } }
                chain forward {
                    type filter hook forward priority 0; policy accept;
                    oifname "\(b.hostInterface)" ct state established,related accept
                    oifname "\(b.hostInterface)" ip saddr . tcp dport @allowed accept
                    oifname "\(b.hostInterface)" drop
                }
            }
            """
        try load(script, with: ["nft", "-f", "-"])
        defer { _ = try? NetNSPod.sh("nft", "delete", "table", "inet", table) }
        try body()
    }

    static func load(_ script: String, with command: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NetNSError(command: command.joined(separator: " "), output: "")
        }
    }

    static func startIperfServer(in pod: NetNSPod) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", pod.namespace, "iperf3", "-s", "-p", "5201"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func throughput(from a: NetNSPod, to b: NetNSPod, seconds: Int) throws -> Double {
        let json = try NetNSPod.sh(
            "ip", "netns", "exec", a.namespace, "iperf3", "-c", b.address, "-p", "5201", "-A", "0,1", "-O", "1",
            "-t", "\(seconds)", "-J")
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let end = object["end"] as? [String: Any], let received = end["sum_received"] as? [String: Any],
            let bits = received["bits_per_second"] as? Double
        else { throw NetNSError(command: "iperf3", output: json) }
        return bits / 1e9
    }

    static let connectLoop = """
        import socket, sys, time
        host, port, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
        n = 0; end = time.time() + duration
        while time.time() < end:
            s = socket.create_connection((host, port), timeout=2); s.sendall(b"x"); s.recv(1); s.close(); n += 1
        print(n / duration)
        """

    static func connectionRate(from a: NetNSPod, to b: NetNSPod, seconds: Int) throws -> Double {
        let output = try NetNSPod.sh(
            "ip", "netns", "exec", a.namespace, "taskset", "-c", "0", "python3", "-c", connectLoop, b.address,
            "8080", "\(seconds)")
        guard let rate = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw NetNSError(command: "connection loop", output: output)
        }
        return rate
    }
}
