import Datapath
import DataplaneModel
import Testing

/// Conntrack, fragments, malformed packets, audit and events, through BPF_PROG_TEST_RUN.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct StatefulVerdictTests {
    typealias P = PacketBuilder

    /// Egress allows TCP/UDP/SCTP port 80 and echo to A; ingress is default deny.
    func egressOnlyState() -> DesiredState {
        var entries = [L4Protocol.tcp, .udp, .sctp].map {
            PolicyEntry(peer: Net.idA, proto: $0, ports: PortRange(80), rule: 4)
        }
        entries += [
            PolicyEntry(peer: Net.idA, proto: .icmp, rule: 5), PolicyEntry(peer: Net.idA, proto: .icmpv6, rule: 5),
        ]
        return Net.state(
            ingress: DirectionPolicy(isolation: .enforce),
            egress: DirectionPolicy(isolation: .enforce, entries: entries))
    }

    /// Programs `egressOnlyState`, opens a flow from the pod to A's port 80 and passes 100 of its replies (all but the
    /// first from this CPU's flow cache); returns the reply packet.
    func openFlowAndPassHundredReplies(_ f: DatapathFixture, _ proto: L4Protocol, replyFlags: UInt8 = P.syn) throws
        -> [UInt8]
    {
        try f.datapath.program(egressOnlyState())
        let open = P.packet(proto, from: Net.pod4, to: Net.a4, sport: 40000, dport: 80)
        #expect(try f.datapath.testRun(.fromContainer, packet: open).passed)
        let reply = P.packet(proto, from: Net.a4, to: Net.pod4, sport: 80, dport: 40000, flags: replyFlags)
        #expect(try f.datapath.testRun(.toContainer, packet: reply, repeat: 100).passed)
        return reply
    }

    @Test(arguments: [L4Protocol.tcp, .udp, .sctp, .icmp, .icmpv6])
    func repliesOfAnAllowedConnectionPassAndNewInboundFlowsDoNot(proto: L4Protocol) throws {
        let f = try DatapathFixture()
        try f.datapath.program(egressOnlyState())
        let (pod, a) = proto == .icmpv6 ? (Net.pod6, Net.a6) : (Net.pod4, Net.a4)
        let replySource: UInt16 = proto.hasPorts ? 80 : 40000  // ICMP: the echo id
        let reply = P.packet(
            proto, from: a, to: pod, sport: replySource, dport: 40000, flags: P.syn | P.ack, echoReply: true)
        #expect(try f.datapath.testRun(.toContainer, packet: reply).dropped, "no reply before the request")
        #expect(
            try f.datapath.testRun(.fromContainer, packet: P.packet(proto, from: pod, to: a, sport: 40000, dport: 80))
                .passed)
        #expect(try f.datapath.testRun(.toContainer, packet: reply).passed)
        // A fresh flow from the same peer (other ports / echo id) is still judged by ingress policy.
        let other = P.packet(proto, from: a, to: pod, sport: 81, dport: 40001, echoReply: false)
        #expect(try f.datapath.testRun(.toContainer, packet: other).dropped)
        #expect(try f.datapath.statistics().conntrackHits >= 1)
    }

    @Test func icmpErrorsAboutATrackedFlowPassAndOthersAreJudgedByPolicy() throws {
        let f = try DatapathFixture()
        try f.datapath.program(egressOnlyState())
        for (pod, peer, router, v6) in [(Net.pod4, Net.a4, Net.world4, false), (Net.pod6, Net.a6, Net.world6, true)] {
            let request = P.packet(.tcp, from: pod, to: peer, sport: 41000, dport: 80)
            #expect(try f.datapath.testRun(.fromContainer, packet: request).passed)
            // "Fragmentation needed" / "packet too big" from a router, quoting the pod's packet (IP header + 8 bytes).
            func error(quoting packet: [UInt8]) -> [UInt8] {
                let quote = Array(packet.dropFirst(14).prefix((v6 ? 40 : 20) + 8))
                let icmp: [UInt8] = (v6 ? [2, 0, 0, 0, 0, 0, 5, 0xDC] : [3, 4, 0, 0, 0, 0, 5, 0xDC]) + quote
                return v6
                    ? P.ipv6(router, pod, proto: 58, payload: icmp) : P.ipv4(router, pod, proto: 1, payload: icmp)
            }
            #expect(try f.datapath.testRun(.toContainer, packet: error(quoting: request)).passed)
            let untracked = P.packet(.tcp, from: pod, to: peer, sport: 41001, dport: 80)
            #expect(try f.datapath.testRun(.toContainer, packet: error(quoting: untracked)).dropped)
        }
    }

    @Test func aTCPSynIsJudgedByPolicyEvenWhenItsTupleIsTracked() throws {
        let f = try DatapathFixture()
        // Replies pass, all but the first from this CPU's flow cache, which the SYN and the RST below must see past.
        let reply = try openFlowAndPassHundredReplies(f, .tcp, replyFlags: P.ack)
        // The peer opening a connection on the reverse tuple is a new inbound connection: denied.
        let inboundSyn = P.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 80, dport: 40000, flags: P.syn)
        #expect(try f.datapath.testRun(.toContainer, packet: inboundSyn).dropped)
        // RST passes and ends the flow: the next reply is judged by (deny-all) ingress policy.
        let rst = P.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 80, dport: 40000, flags: P.rst | P.ack)
        #expect(try f.datapath.testRun(.toContainer, packet: rst).passed)
        #expect(try f.datapath.testRun(.toContainer, packet: reply).dropped)
    }

    @Test func packetsPassedFromTheFlowCacheCountUnderTheRuleThatAllowedTheFlow() throws {
        let f = try DatapathFixture()
        _ = try openFlowAndPassHundredReplies(f, .udp)
        #expect(try f.datapath.counters().filter { $0.rule == 4 && $0.verdict == .allow }.map(\.packets) == [101])
        #expect(try f.datapath.statistics().conntrackHits == 100)
    }

    @Test func laterFragmentsFollowTheirFirstFragment() throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .udp, ports: PortRange(53), rule: 1)])
        try f.datapath.program(Net.state(ingress: policy))
        let allowed = P.transport(.udp, sport: 5353, dport: 53)
        let denied = P.transport(.udp, sport: 5353, dport: 54)
        let data = [UInt8](repeating: 0xAB, count: 16)
        func frame(_ payload: [UInt8], offset: UInt16, more: Bool, id: UInt16) -> [UInt8] {
            P.ipv4(Net.a4, Net.pod4, proto: 17, payload: payload, fragment: (offset, more, id))
        }
        #expect(try f.datapath.testRun(.toContainer, packet: frame(allowed, offset: 0, more: true, id: 100)).passed)
        #expect(try f.datapath.testRun(.toContainer, packet: frame(data, offset: 2, more: false, id: 100)).passed)
        #expect(try f.datapath.testRun(.toContainer, packet: frame(denied, offset: 0, more: true, id: 101)).dropped)
        #expect(try f.datapath.testRun(.toContainer, packet: frame(data, offset: 2, more: false, id: 101)).dropped)
        #expect(try f.datapath.testRun(.toContainer, packet: frame(data, offset: 2, more: false, id: 102)).dropped)
        // IPv6: fragment extension header, first fragment then a later one.
        let first = P.ipv6(Net.a6, Net.pod6, proto: 17, payload: allowed, extensions: [(44, [0, 1, 0, 0, 0, 9])])
        let later = P.ipv6(Net.a6, Net.pod6, proto: 17, payload: data, extensions: [(44, [0, 16, 0, 0, 0, 9])])
        let orphan = P.ipv6(Net.a6, Net.pod6, proto: 17, payload: data, extensions: [(44, [0, 16, 0, 0, 0, 10])])
        #expect(try f.datapath.testRun(.toContainer, packet: first).passed)
        #expect(try f.datapath.testRun(.toContainer, packet: later).passed)
        #expect(try f.datapath.testRun(.toContainer, packet: orphan).dropped)
        #expect(try f.datapath.statistics().unknownFragments == 3)
    }

    @Test func malformedPacketsAreDroppedWhereIsolatedAndPassedWhereNot() throws {
        let f = try DatapathFixture()
        let allowAll = DirectionPolicy(isolation: .enforce, entries: [PolicyEntry(peer: .any, rule: 1)])
        try f.datapath.program(Net.state(ingress: allowAll))
        let tcp = P.packet(.tcp, from: Net.a4, to: Net.pod4)
        let malformed: [[UInt8]] = [
            Array(tcp.prefix(14 + 20 + 10)),  // TCP header cut short
            // (BPF_PROG_TEST_RUN itself refuses frames shorter than an IP header, so those cannot be crafted here;
            // the program reads every header with bpf_skb_load_bytes, which fails the same way on them.)
            // IHL pointing past the end of the packet:
            P.ipv4(Net.a4, Net.pod4, proto: 6, payload: P.transport(.tcp, sport: 1, dport: 2), ihl: 15),
            P.ipv4(Net.a4, Net.pod4, proto: 6, payload: P.transport(.tcp, sport: 1, dport: 2), ihl: 3),  // bad IHL
            Array(P.packet(.udp, from: Net.a6, to: Net.pod6).prefix(14 + 40 + 4)),  // UDP cut short
            P.ipv6(
                Net.a6, Net.pod6, proto: 6, payload: [],
                extensions: Array(repeating: (60, [0, 0, 0, 0, 0, 0]), count: 9)),
            [UInt8](P.ethernetIPv4) + [0x55] + Array(tcp.dropFirst(15)),  // IP version 5 under an IPv4 ethertype
        ]
        for (index, packet) in malformed.enumerated() {
            #expect(try f.datapath.testRun(.toContainer, packet: packet).dropped, "case \(index)")
        }
        #expect(try f.datapath.testRun(.toContainer, packet: tcp).passed)
        #expect(try f.datapath.testRun(.toContainer, packet: P.arp).passed)
        #expect(try f.datapath.statistics().malformed == UInt64(malformed.count))
        // Egress is not isolated: the same garbage leaving the pod passes (ingress isolation alone needs conntrack).
        #expect(try f.datapath.testRun(.fromContainer, packet: malformed[0]).passed)
    }

    @Test func auditedDenialsPassAndAreReportedAsEvents() async throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce,
            entries: [
                PolicyEntry(peer: Net.idA, rule: 1),
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(22), action: .deny, mode: .audit, rule: 2),
            ])
        try f.datapath.program(Net.state(ingress: policy, egress: DirectionPolicy(isolation: .audit)))
        let events = f.datapath.events()
        #expect(
            try f.datapath.testRun(
                .toContainer, packet: P.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 999, dport: 22)
            ).passed)
        #expect(
            try f.datapath.testRun(
                .fromContainer, packet: P.packet(.udp, from: Net.pod6, to: Net.world6, sport: 7, dport: 53)
            ).passed)
        #expect(
            try f.datapath.testRun(
                .toContainer, packet: P.packet(.tcp, from: Net.b4, to: Net.pod4, sport: 998, dport: 80)
            ).dropped)
        var received: [DatapathEvent] = []
        for await event in events {
            received.append(event)
            if received.count == 3 { break }
        }
        #expect(received.map(\.verdict) == [.audit, .audit, .deny])
        let first = try #require(received.first)
        #expect(first.rule == 2 && first.remoteIdentity == Net.idA && first.direction == .ingress)
        #expect(first.source == IPAddress(Net.a4) && first.destination == IPAddress(Net.pod4))
        #expect(first.sourcePort == 999 && first.destinationPort == 22 && first.proto == 6)
        #expect(
            received[1].rule == .defaultDeny && received[1].remoteIdentity == .world && received[1].direction == .egress
        )
        #expect(received[2].rule == .defaultDeny && received[2].remoteIdentity == Net.idB)
        let audits = try f.datapath.counters().filter { $0.verdict == .audit }
        #expect(audits.reduce(0) { $0 + $1.packets } == 2)
    }
}
