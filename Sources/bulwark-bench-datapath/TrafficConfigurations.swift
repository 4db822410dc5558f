import BulwarkTesting
import Datapath
import DataplaneModel
import Foundation

/// One way of enforcing the benchmark's policy on pod B's ingress, put in place and taken away again while traffic
/// keeps flowing (so one stream or connection loop measures every configuration in turn).
struct TrafficConfiguration {
    let name: String
    let install: () throws -> Void
    let remove: () throws -> Void

    static func none(_ name: String) -> TrafficConfiguration {
        TrafficConfiguration(name: name, install: {}, remove: {})
    }

    /// Bulwark's two programs on both pods' host veths, with maps programmed once up front (what stays pinned on a
    /// node). Removing detaches the filters but leaves the clsact qdisc (see `TrafficBench.run`).
    static func bulwark(_ datapath: Datapath, a: NetNSPod, b: NetNSPod, allowed: [(String, UInt16)]) throws
        -> TrafficConfiguration
    {
        try datapath.program(desiredState(a: a, b: b, allowed: allowed))
        return TrafficConfiguration(
            name: "Bulwark, \(allowed.count) rules",
            install: { for pod in [a, b] { try datapath.attach(ifindex: pod.ifindex) } },
            remove: { for pod in [a, b] { try datapath.detach(ifindex: pod.ifindex) } })
    }

    /// One ingress entry per allowed (address, port), each address its own identity, B isolated on ingress; A is
    /// attached too but not isolated (its flows are tracked, as on a node where every pod has the programs).
    static func desiredState(a: NetNSPod, b: NetNSPod, allowed: [(String, UInt16)]) -> DesiredState {
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
        return DesiredState(
            endpoints: [
                Endpoint(pod: "bench/a", addresses: [], identity: aIdentity, ifindex: a.ifindex),
                Endpoint(
                    pod: "bench/b", addresses: [], identity: Identity(rawValue: 9_999), ifindex: b.ifindex,
                    ingress: DirectionPolicy(isolation: .enforce, entries: entries)),
            ],
            ipcache: ipcache)
    }

    /// A linear iptables chain in FORWARD for traffic to B, stateful like Bulwark (established accepted first).
    /// iptables-nft creates the `ip filter` table with hooked base chains and leaves it behind when its rules go; when
    /// the table was not there before, removing the configuration deletes it too, so later configurations (and the
    /// host after the benchmark) do not pay for empty hooks.
    static func iptables(b: NetNSPod, allowed: [(String, UInt16)]) -> TrafficConfiguration {
        let chain = "BWBENCH\(getpid())"
        let filterTableWasThere = (try? NetNSPod.sh("nft", "list", "table", "ip", "filter")) != nil
        var script = "*filter\n:\(chain) - [0:0]\n-A FORWARD -o \(b.hostInterface) -j \(chain)\n"
        script += "-A \(chain) -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
        for (address, port) in allowed { script += "-A \(chain) -s \(address)/32 -p tcp --dport \(port) -j ACCEPT\n" }
        script += "-A \(chain) -j DROP\nCOMMIT\n"
        return TrafficConfiguration(
            name: "iptables, \(allowed.count) rules (linear chain)",
            install: { try load(script, with: ["iptables-restore", "--noflush"]) },
            remove: {
                try NetNSPod.sh("iptables", "-D", "FORWARD", "-o", b.hostInterface, "-j", chain)
                try NetNSPod.sh("iptables", "-F", chain)
                try NetNSPod.sh("iptables", "-X", chain)
                if !filterTableWasThere { _ = try? NetNSPod.sh("nft", "delete", "table", "ip", "filter") }
            })
    }

    /// The same policy as an nftables set of (address, port) in a forward chain of a table of its own.
    static func nftables(b: NetNSPod, allowed: [(String, UInt16)]) -> TrafficConfiguration {
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
        return TrafficConfiguration(
            name: "nftables, \(allowed.count) rules (set lookup)",
            install: { try load(script, with: ["nft", "-f", "-"]) },
            remove: { try NetNSPod.sh("nft", "delete", "table", "inet", table) })
    }

    private static func load(_ script: String, with command: [String]) throws {
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
}
