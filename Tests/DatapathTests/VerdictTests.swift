import Datapath
import DataplaneModel
import Testing

/// Verdicts through BPF_PROG_TEST_RUN: crafted packets into the real programs and maps.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct VerdictTests {
    typealias P = PacketBuilder

    /// Runs a packet entering the pod (ingress policy) and returns whether it passed.
    func into(_ d: Datapath, _ packet: [UInt8]) throws -> Bool { try d.testRun(.toContainer, packet: packet).passed }
    func out(_ d: Datapath, _ packet: [UInt8]) throws -> Bool { try d.testRun(.fromContainer, packet: packet).passed }

    @Test func aPodWithoutIsolationPassesEverything() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state())
        #expect(try into(f.datapath, P.packet(.tcp, from: Net.world4, to: Net.pod4)))
        #expect(try out(f.datapath, P.packet(.udp, from: Net.pod6, to: Net.world6)))
    }

    @Test func anIsolatedDirectionDropsWhatNoRuleAllowsAndTheOtherDirectionStillPasses() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: DirectionPolicy(isolation: .enforce)))
        #expect(try !into(f.datapath, P.packet(.tcp, from: Net.a4, to: Net.pod4)))
        #expect(try !into(f.datapath, P.packet(.udp, from: Net.world6, to: Net.pod6)))
        #expect(try out(f.datapath, P.packet(.tcp, from: Net.pod4, to: Net.a4, sport: 5555, dport: 443)))
    }

    @Test(arguments: [L4Protocol.tcp, .udp, .sctp], [false, true])
    func portRangesMatchExactlyTheirEdges(proto: L4Protocol, v6: Bool) throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce,
            entries: [PolicyEntry(peer: Net.idA, proto: proto, ports: PortRange(1000, 2000), rule: 7)])
        try f.datapath.program(Net.state(ingress: policy))
        let (a, pod) = v6 ? (Net.a6, Net.pod6) : (Net.a4, Net.pod4)
        for (port, allowed) in [(999, false), (1000, true), (1500, true), (2000, true), (2001, false)] {
            let packet = P.packet(proto, from: a, to: pod, sport: UInt16(30000 + port), dport: UInt16(port))
            #expect(try into(f.datapath, packet) == allowed, "\(proto) port \(port)")
        }
        // The same port from another identity, and another protocol on an allowed port, are dropped.
        #expect(try !into(f.datapath, P.packet(proto, from: v6 ? Net.b6 : Net.b4, to: pod, dport: 1500)))
        let other: L4Protocol = proto == .tcp ? .udp : .tcp
        #expect(try !into(f.datapath, P.packet(other, from: a, to: pod, sport: 1, dport: 1500)))
    }

    @Test(arguments: [(L4Protocol.icmp, Net.a4, Net.pod4), (.icmpv6, Net.a6, Net.pod6)])
    func icmpEchoIsAllowedByProtocol(proto: L4Protocol, remote: String, pod: String) throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: proto, rule: 3)])
        try f.datapath.program(Net.state(ingress: policy))
        #expect(try into(f.datapath, P.packet(proto, from: remote, to: pod, sport: 77)))
        #expect(try !into(f.datapath, P.packet(.tcp, from: remote, to: pod)))
        #expect(try !into(f.datapath, P.packet(proto, from: remote.replacingOccurrences(of: "1", with: "2"), to: pod)))
    }

    @Test func wildcardIdentityAndWildcardProtocolEntriesMatch() throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce,
            entries: [
                PolicyEntry(peer: .any, proto: .udp, ports: PortRange(53), rule: 1),
                PolicyEntry(peer: Net.idB, rule: 2),
            ])
        try f.datapath.program(Net.state(egress: policy))
        #expect(try out(f.datapath, P.packet(.udp, from: Net.pod4, to: Net.world4, sport: 1234, dport: 53)))
        #expect(try out(f.datapath, P.packet(.udp, from: Net.pod6, to: Net.a6, sport: 1234, dport: 53)))
        #expect(try !out(f.datapath, P.packet(.tcp, from: Net.pod4, to: Net.world4, sport: 1234, dport: 53)))
        #expect(try out(f.datapath, P.packet(.tcp, from: Net.pod4, to: Net.b4, sport: 1234, dport: 9999)))
        #expect(try out(f.datapath, P.packet(.sctp, from: Net.pod6, to: Net.b6, sport: 1234, dport: 1)))
        #expect(try !out(f.datapath, P.packet(.tcp, from: Net.pod4, to: Net.a4, sport: 1234, dport: 9999)))
    }

    @Test func denyBeatsAllowForTheSameAndForTheWildcardIdentity() throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce,
            entries: [
                PolicyEntry(peer: Net.idA, rule: 1),
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(20, 23), action: .deny, rule: 2),
                PolicyEntry(peer: .any, proto: .udp, ports: PortRange(5000), action: .deny, rule: 3),
            ])
        try f.datapath.program(Net.state(ingress: policy))
        #expect(try into(f.datapath, P.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 19)))
        #expect(try !into(f.datapath, P.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 20)))
        #expect(try !into(f.datapath, P.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 23)))
        #expect(try into(f.datapath, P.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 24)))
        #expect(try into(f.datapath, P.packet(.udp, from: Net.a4, to: Net.pod4, dport: 4999)))
        #expect(try !into(f.datapath, P.packet(.udp, from: Net.a4, to: Net.pod4, dport: 5000)))
        let denies = try f.datapath.counters().filter { $0.verdict == .deny }
        #expect(Set(denies.map(\.rule)) == [2, 3])
    }

    @Test func ipv6ExtensionHeadersAreSkippedBeforeThePorts() throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(443), rule: 1)])
        try f.datapath.program(Net.state(ingress: policy))
        let hopByHop: (type: UInt8, body: [UInt8]) = (0, [1, 4, 0, 0, 0, 0])
        let destination: (type: UInt8, body: [UInt8]) = (60, [1, 12] + [UInt8](repeating: 0, count: 12))
        for (port, allowed) in [(UInt16(443), true), (444, false)] {
            let tcp = P.transport(.tcp, sport: 999, dport: port)
            let packet = P.ipv6(Net.a6, Net.pod6, proto: 6, payload: tcp, extensions: [hopByHop, destination])
            #expect(try into(f.datapath, packet) == allowed)
        }
    }

    @Test func theNodeMayReachItsPodsUnlessARuleDeniesIt() throws {
        let f = try DatapathFixture()
        try f.datapath.program(
            Net.state(ingress: DirectionPolicy(isolation: .enforce), egress: DirectionPolicy(isolation: .enforce)))
        #expect(try into(f.datapath, P.packet(.tcp, from: Net.host4, to: Net.pod4, dport: 8080)))
        #expect(try into(f.datapath, P.packet(.icmpv6, from: Net.host6, to: Net.pod6)))
        #expect(try !out(f.datapath, P.packet(.tcp, from: Net.pod4, to: Net.host4, sport: 8080, dport: 10250)))
        let denyHost = DirectionPolicy(
            isolation: .enforce, entries: [PolicyEntry(peer: .host, proto: .tcp, action: .deny, rule: 9)])
        try f.datapath.program(Net.state(ingress: denyHost))
        #expect(try !into(f.datapath, P.packet(.tcp, from: Net.host4, to: Net.pod4, sport: 40001, dport: 8080)))
    }
}
