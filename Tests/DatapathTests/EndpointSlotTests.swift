import DataplaneModel
import Foundation
import Testing

@testable import Datapath

/// The endpoint slot array: the programs' inlined copy of the endpoint configs, which must never give an interface
/// another endpoint's config, whoever owns the slot and whatever a crash left in it.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct EndpointSlotTests {
    /// The test endpoint (loopback, ifindex 1) isolated for ingress, allowing TCP 80 from identity A.
    let isolated = DirectionPolicy(
        isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(80), rule: 1)])
    /// An endpoint whose ifindex shares loopback's slot, isolated for nothing.
    let collider = Endpoint(
        pod: "x/collider", addresses: [], identity: Net.idB, ifindex: 1 + UInt32(EndpointSlots.count))

    private func verdicts(_ datapath: Datapath, sport: UInt16) throws -> (allowed: Bool, denied: Bool) {
        let allowed = try datapath.testRun(
            .toContainer, packet: PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, sport: sport, dport: 80))
        let other = try datapath.testRun(
            .toContainer, packet: PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, sport: sport, dport: 81))
        return (allowed.passed, other.dropped)
    }

    @Test func anEndpointIsReadFromItsSlotOnceProgrammed() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: isolated))
        let slot = f.datapath.endpointSlots.slot(for: 1)
        #expect(slot.owner == 1 && slot.ingress == .enforce)
        #expect(try verdicts(f.datapath, sport: 1) == (true, true))
    }

    @Test func anEndpointWhoseSlotAnotherOwnsIsJudgedByItsOwnConfigFromTheHash() throws {
        let f = try DatapathFixture()
        try f.datapath.program(DesiredState(endpoints: [collider], ipcache: Net.ipcache))
        var both = Net.state(ingress: isolated)
        both.endpoints.append(collider)
        try f.datapath.program(both)
        #expect(f.datapath.endpointSlots.slot(for: 1).owner == collider.ifindex, "the first owner keeps the slot")
        #expect(try verdicts(f.datapath, sport: 2) == (true, true))

        // The owner goes: loopback takes the slot over, with the same verdicts.
        try f.datapath.program(Net.state(ingress: isolated))
        #expect(f.datapath.endpointSlots.slot(for: 1).owner == 1)
        #expect(try verdicts(f.datapath, sport: 3) == (true, true))
    }

    @Test func aPolicyFlipReachesTheSlot() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: isolated))
        try f.datapath.program(Net.state())
        #expect(f.datapath.endpointSlots.slot(for: 1).ingress == Isolation.none)
        let unisolated = try f.datapath.testRun(
            .toContainer, packet: PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 4, dport: 81))
        #expect(unisolated.passed)
        // A removed endpoint frees its slot before its config goes: its interface is unknown again.
        try f.datapath.program(DesiredState(ipcache: Net.ipcache))
        #expect(f.datapath.endpointSlots.slot(for: 1).owner == 0)
    }

    @Test func slotsLeftStaleByACrashAreRepairedByTheFirstProgramOfTheNextAgent() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: isolated))
        // As if an agent died between writes: loopback's slot says "not isolated", another slot names a gone endpoint.
        f.datapath.endpointSlots.publish([
            (1, EndpointConfig(identity: 0, ingress: .none, egress: .none, epoch: 0)),
            (7, EndpointConfig(identity: 0, ingress: .enforce, egress: .enforce, epoch: 0)),
        ])
        let restarted = try Datapath(pinRoot: f.root)
        try restarted.program(Net.state(ingress: isolated))
        #expect(restarted.endpointSlots.slot(for: 1).ingress == .enforce)
        #expect(restarted.endpointSlots.slot(for: 7).owner == 0)
        #expect(try verdicts(restarted, sport: 5) == (true, true))
    }
}
