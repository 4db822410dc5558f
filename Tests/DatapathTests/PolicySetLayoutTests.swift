import DataplaneModel
import Testing

@testable import Datapath

/// A policy set is looked up in one of three places (copied into the selector value when small, the exact hash,
/// the LPM trie when it has port ranges); the same rules must give the same verdicts whichever place holds them.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct PolicySetLayoutTests {
    typealias P = PacketBuilder

    /// Where a set's keys live, read back from the maps.
    enum Layout: String, CaseIterable {
        case inline, hash, trie
    }

    /// Extra entries that change no probed verdict but move the set: two more SCTP ports push it past the inline
    /// limit into the hash, an SCTP range puts it into the trie.
    static func filler(_ layout: Layout) -> [PolicyEntry] {
        switch layout {
        case .inline: []
        case .hash: [6000, 6001].map { PolicyEntry(peer: Net.idA, proto: .sctp, ports: PortRange($0), rule: 90) }
        case .trie: [PolicyEntry(peer: Net.idA, proto: .sctp, ports: PortRange(6000, 6003), rule: 90)]
        }
    }

    func program(_ entries: [PolicyEntry], _ layout: Layout) throws -> DatapathFixture {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(isolation: .enforce, entries: entries + Self.filler(layout))
        try f.datapath.program(Net.state(ingress: policy))
        let state = try f.datapath.readState()
        let set = try #require(state.activeGeneration(1).ingress.first { $0.identity == Net.idA.rawValue }?.set)
        let content = try #require(state.sets[set])
        let actual: Layout =
            SetShape.isRanged(set) ? .trie : content.count <= SetShape.inlineLimit ? .inline : .hash
        #expect(actual == layout, "set \(set) with \(content.count) keys should be looked up in \(layout)")
        return f
    }

    func into(_ f: DatapathFixture, _ proto: L4Protocol, _ port: UInt16) throws -> Bool {
        try f.datapath.testRun(.toContainer, packet: P.packet(proto, from: Net.a4, to: Net.pod4, dport: port)).passed
    }

    @Test(arguments: Layout.allCases)
    func singlePortsAndARangeOfTheSamePortsGiveTheSameVerdictsAtTheEdges(layout: Layout) throws {
        // The same four ports as single-port entries (in `layout`) and as one range (always in the trie).
        let single = try program(
            (1000...1003).map { PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange($0), rule: 7) }, layout)
        let range = try program([PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(1000, 1003), rule: 7)], .trie)
        for port: UInt16 in [0, 999, 1000, 1001, 1002, 1003, 1004, 65535] {
            let expected = (1000...1003).contains(port)
            #expect(try into(single, .tcp, port) == expected, "\(layout) tcp \(port)")
            #expect(try into(range, .tcp, port) == expected, "range tcp \(port)")
            #expect(try !into(single, .udp, port), "\(layout) udp \(port)")
        }
    }

    @Test(arguments: Layout.allCases)
    func theMostSpecificKeyDecidesWhicheverPlaceHoldsTheSet(layout: Layout) throws {
        // Port beats protocol beats any protocol: deny TCP 22 inside allow-all, allow UDP 53 inside deny-UDP.
        let f = try program(
            [
                PolicyEntry(peer: Net.idA, rule: 1),
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(22), action: .deny, rule: 2),
                PolicyEntry(peer: Net.idA, proto: .udp, action: .deny, rule: 3),
                PolicyEntry(peer: Net.idA, proto: .udp, ports: PortRange(53), rule: 4),
            ], layout)
        #expect(try into(f, .tcp, 21))
        #expect(try !into(f, .tcp, 22))
        #expect(try !into(f, .udp, 53), "deny beats allow: the UDP deny covers port 53 too")
        #expect(try !into(f, .udp, 54))
        #expect(try into(f, .icmp, 0))
        let denies = try f.datapath.counters().filter { $0.verdict == .deny }
        #expect(Set(denies.map(\.rule)) == [2, 3])
    }

    @Test(arguments: Layout.allCases)
    func aProtocolWideEntryMatchesEveryPortOfItsProtocolOnly(layout: Layout) throws {
        let f = try program(
            [
                PolicyEntry(peer: Net.idA, proto: .icmp, rule: 1),
                PolicyEntry(peer: Net.idA, proto: .udp, rule: 2),
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(443), rule: 3),
            ], layout)
        #expect(try into(f, .icmp, 0))
        #expect(try into(f, .udp, 0) && into(f, .udp, 65535))
        #expect(try into(f, .tcp, 443))
        #expect(try !into(f, .tcp, 444))
        #expect(try !into(f, .sctp, 443))
    }
}
