import DataplaneModel
import Testing

@testable import Datapath

/// `program(_:)`: diffing against the maps, reports, capacity errors.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct ProgramTests {
    let policy = DirectionPolicy(
        isolation: .enforce,
        entries: [
            PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(80), rule: 1),
            PolicyEntry(peer: .any, proto: .udp, ports: PortRange(1000, 1003), rule: 2),
        ])

    @Test func programmingTheSameStateTwiceChangesNothing() throws {
        let f = try DatapathFixture()
        let first = try f.datapath.program(Net.state(ingress: policy))
        #expect(first.endpoints.added == 1 && first.ipcache.added == Net.ipcache.count && first.policy.added == 2)
        let second = try f.datapath.program(Net.state(ingress: policy))
        #expect(second.isUnchanged && second.mapOperations == 0)
        // A fresh datapath object on the same pins (an agent restart) sees the same: nothing to do.
        let restarted = try Datapath(pinRoot: f.root)
        #expect(try restarted.program(Net.state(ingress: policy)).mapOperations == 0)
    }

    @Test func aChangedPolicyIsReportedAsAddedUpdatedAndRemovedKeys() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: policy))
        var changed = policy
        changed.entries[0].ports = PortRange(81)
        changed.entries[1].action = .deny
        let report = try f.datapath.program(Net.state(ingress: changed))
        #expect(report.policy == ProgramReport.Changes(added: 1, updated: 1, removed: 1))
        #expect(
            try f.datapath.testRun(
                .toContainer, packet: PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 81)
            ).passed)
        #expect(
            try f.datapath.testRun(
                .toContainer, packet: PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 2, dport: 80)
            ).dropped)
        let removed = try f.datapath.program(DesiredState(ipcache: Net.ipcache))
        #expect(removed.endpoints.removed == 1 && removed.policy.removed == 2)
        #expect(
            try f.datapath.testRun(
                .toContainer, packet: PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 3, dport: 80)
            ).passed)
    }

    @Test func aFullMapIsReportedByNameAndLeavesThePreviousStateIntact() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: policy))
        let tooMany = (1...5000).map { index in
            Endpoint(
                pod: "x/p\(index)", addresses: [], identity: Net.idPod, ifindex: UInt32(1000 + index),
                ingress: DirectionPolicy(isolation: .enforce))
        }
        var desired = Net.state()
        desired.endpoints += tooMany
        #expect(throws: DatapathError.mapFull(map: "bulwark_endpoints", capacity: 4096, required: 5001)) {
            try f.datapath.program(desired)
        }
        #expect(try f.datapath.program(Net.state(ingress: policy)).isUnchanged)
    }

    @Test func contradictoryDesiredStatesAreRejected() throws {
        let f = try DatapathFixture()
        var desired = Net.state()
        desired.endpoints.append(Endpoint(pod: "x/other", addresses: [], identity: Net.idB, ifindex: 1))
        #expect(throws: DatapathError.self) { try f.datapath.program(desired) }
        #expect(try f.datapath.program(DesiredState()).isUnchanged)
    }

    @Test func endpointsWithTheSameRulesShareOnePolicySetAndUnusedSetsAreRemoved() throws {
        let f = try DatapathFixture()
        var desired = Net.state(ingress: policy)
        desired.endpoints.append(
            Endpoint(pod: "test/twin", addresses: [], identity: Net.idPod, ifindex: 77, ingress: policy))
        try f.datapath.program(desired)
        var state = try f.datapath.readState()
        // Two identities (A and any) -> two sets, used by both endpoints' selectors.
        #expect(state.sets.count == 2 && state.selectors.count == 4)
        // Changing the twin's rules leaves the shared sets of endpoint 1 untouched and adds the twin's new one.
        desired.endpoints[1].ingress.entries[0].ports = PortRange(81)
        try f.datapath.program(desired)
        state = try f.datapath.readState()
        #expect(state.sets.count == 3 && state.selectors.count == 4)
        let packet = PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 80)
        #expect(try f.datapath.testRun(.toContainer, packet: packet).passed)
        try f.datapath.program(DesiredState())
        state = try f.datapath.readState()
        #expect(state.sets.isEmpty && state.selectors.isEmpty && state.endpoints.isEmpty)
    }
}

/// The ipcache memo: kept across refused programs, and never trusted past its lifetime.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct IPCacheMemoTests {
    @Test func aRefusedProgramKeepsTheMemoAndAnExpiredMemoIsReadBackFromTheKernel() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state())
        #expect(f.datapath.ipcacheMemo?.entries.count == Net.ipcache.count)
        // Two identities for one prefix is refused before anything is written: the memo stays valid.
        var contradictory = Net.state()
        contradictory.ipcache.append(IPCacheEntry(prefix: Net.ipcache[0].prefix, identity: Net.idB))
        #expect(throws: DatapathError.self) { try f.datapath.program(contradictory) }
        #expect(f.datapath.ipcacheMemo != nil)
        // An expired memo is read back from the kernel: an entry removed behind our back is restored.
        try f.datapath.ipcache.delete(Net.ipcache[0].prefix.ipcacheKey)
        f.datapath.ipcacheMemo?.at = .now - Datapath.ipcacheMemoLifetime
        let report = try f.datapath.program(Net.state())
        #expect(report.ipcache.added == 1)
    }
}
