import DataplaneModel
import Testing

@testable import Datapath

/// Per-rule counters: dense slots in a per-CPU array, the hash for pairs past the slot capacity (see `RuleSlots`).
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct RuleCounterTests {
    typealias P = PacketBuilder

    @Test func policyConntrackAndDefaultVerdictsAreCountedPerRule() throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce,
            entries: [
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(80), rule: 5),
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(22), action: .deny, rule: 6),
            ])
        try f.datapath.program(Net.state(ingress: policy))
        let syn = P.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 4000, dport: 80)
        let ack = P.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 4000, dport: 80, flags: P.ack)
        for packet in [syn, ack, ack, P.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 22)] {
            _ = try f.datapath.testRun(.toContainer, packet: packet)
        }
        #expect(try !f.datapath.testRun(.toContainer, packet: P.packet(.udp, from: Net.b4, to: Net.pod4)).passed)
        let counted = Dictionary(
            uniqueKeysWithValues: try f.datapath.counters().map { ("\($0.rule) \($0.verdict)", $0.packets) })
        #expect(counted == ["5 allow": 3, "6 deny": 1, "0 deny": 1], "the SYN and both ACKs of the flow count for 5")
    }

    @Test func slotsSurviveARestartSoCountsAddUp() throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(
            isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .udp, ports: PortRange(53), rule: 8)])
        let packet = P.packet(.udp, from: Net.a4, to: Net.pod4, sport: 1000, dport: 53)
        try f.datapath.program(Net.state(ingress: policy))
        _ = try f.datapath.testRun(.toContainer, packet: packet)
        let restarted = try Datapath(pinRoot: f.root)
        #expect(try restarted.program(Net.state(ingress: policy)).mapOperations == 0)
        _ = try restarted.testRun(
            .toContainer, packet: P.packet(.udp, from: Net.a4, to: Net.pod4, sport: 1001, dport: 53))
        #expect(try restarted.counters().map(\.packets) == [2])
        #expect(try restarted.counters().map(\.rule) == [8])
    }

    @Test func everyRuleIsCountedAlsoPastTheSlotCapacity() throws {
        let f = try DatapathFixture()
        let rules = f.datapath.ruleSlotMap.capacity + 20
        let entries = (1...rules).map {
            PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(UInt16($0)), rule: RuleID(rawValue: UInt32($0)))
        }
        try f.datapath.program(Net.state(ingress: DirectionPolicy(isolation: .enforce, entries: entries)))
        for port in 1...rules {
            let packet = P.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 1, dport: UInt16(port), flags: P.ack)
            #expect(try f.datapath.testRun(.toContainer, packet: packet).passed)
        }
        let counters = try f.datapath.counters()
        #expect(counters.count == rules && counters.allSatisfy { $0.packets == 1 && $0.verdict == .allow })
        #expect(Set(counters.map(\.rule.rawValue)) == Set((1...rules).map(UInt32.init)))
    }
}
