import DataplaneModel
import Foundation
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
        #expect(state.sets.count == 2 && state.selectorCount == 4)
        // Changing the twin's rules leaves the shared sets of endpoint 1 untouched and adds the twin's new one.
        desired.endpoints[1].ingress.entries[0].ports = PortRange(81)
        try f.datapath.program(desired)
        state = try f.datapath.readState()
        #expect(state.sets.count == 3 && state.selectorCount == 4)
        let packet = PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 80)
        #expect(try f.datapath.testRun(.toContainer, packet: packet).passed)
        try f.datapath.program(DesiredState())
        state = try f.datapath.readState()
        #expect(state.sets.isEmpty && state.selectorCount == 0 && state.endpoints.isEmpty)
    }
}

/// The memo of what the last program wrote: exact, kept across refused programs, replaced by the kernel's view on
/// request.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct ProgramMemoTests {
    @Test func aRefusedProgramKeepsTheMemoAndARereadRepairsDriftFromOutside() throws {
        let f = try DatapathFixture()
        let policy = DirectionPolicy(isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .tcp, rule: 1)])
        try f.datapath.program(Net.state(ingress: policy))
        #expect(f.datapath.memo?.state.ipcache.count == Net.ipcache.count)
        // Two identities for one prefix is refused before anything is written: the memo stays valid.
        var contradictory = Net.state(ingress: policy)
        contradictory.ipcache.append(IPCacheEntry(prefix: Net.ipcache[0].prefix, identity: Net.idB))
        #expect(throws: DatapathError.self) { try f.datapath.program(contradictory) }
        #expect(f.datapath.memo != nil)
        // Entries removed behind our back go unnoticed by a normal program...
        try f.datapath.ipcache.delete(Net.ipcache[0].prefix.ipcacheKey)
        let selector = SelectorKey(endpoint: 1, identity: Net.idA.rawValue, direction: .ingress, epoch: 0)
        try f.datapath.selectors.delete(selector.raw)
        #expect(try f.datapath.program(Net.state(ingress: policy)).isUnchanged)
        // ...and are restored by one that reads the maps back from the kernel.
        let report = try f.datapath.program(Net.state(ingress: policy), rereadingMaps: true)
        #expect(report.ipcache.added == 1 && report.policy.added == 1)
        #expect(try f.datapath.readState() == f.datapath.memo?.state)
    }

    /// After every program of a random sequence, the memo equals what the kernel holds: diffing against it is
    /// diffing against the maps. Also checks that changes of exact-identity selectors are written in place.
    @Test func theMemoAlwaysEqualsTheKernelMaps() throws {
        let f = try DatapathFixture()
        var random = SystemRandomNumberGenerator()
        let identities = [Identity.any, Net.idA, Net.idB, Identity.world]
        func randomPolicy() -> DirectionPolicy {
            let entries = (0..<Int.random(in: 0...4, using: &random)).map { index in
                let first = UInt16.random(in: 1...2000, using: &random)
                return PolicyEntry(
                    peer: identities.randomElement(using: &random)!, proto: [.tcp, .udp, nil].randomElement()!,
                    ports: Bool.random() ? PortRange(first, first + UInt16.random(in: 0...300)) : nil,
                    action: Bool.random() ? .allow : .deny, rule: RuleID(rawValue: UInt32(index + 1)))
            }
            return DirectionPolicy(isolation: [.none, .enforce, .audit].randomElement()!, entries: entries)
        }
        for round in 0..<40 {
            let endpoints = (1...UInt32.random(in: 1...4)).map { ifindex in
                Endpoint(
                    pod: "x/p\(ifindex)", addresses: [], identity: Net.idPod, ifindex: ifindex + 10,
                    ingress: randomPolicy(), egress: randomPolicy())
            }
            try f.datapath.program(DesiredState(endpoints: endpoints, ipcache: round % 3 == 0 ? [] : Net.ipcache))
            #expect(try f.datapath.readState() == f.datapath.memo?.state, "round \(round)")
        }
    }

    @Test func changingOnlyExactIdentitySelectorsWritesThemInPlace() throws {
        let f = try DatapathFixture()
        var policy = DirectionPolicy(
            isolation: .enforce,
            entries: [
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(80), rule: 1),
                PolicyEntry(peer: .any, proto: .udp, ports: PortRange(53), rule: 2),
            ])
        try f.datapath.program(Net.state(ingress: policy))
        let epoch = try #require(f.datapath.readState().endpoints[1]).epoch
        policy.entries[0].ports = PortRange(81)
        policy.entries.append(PolicyEntry(peer: Net.idB, proto: .tcp, ports: PortRange(22), rule: 3))
        let report = try f.datapath.program(Net.state(ingress: policy))
        // One new set for A, one for B; A's selector replaced, B's added; the old set of A deleted. No flip.
        #expect(report.mapOperations == 1 + 1 + 2 + 1)
        #expect(try f.datapath.readState().endpoints[1]?.epoch == epoch)
        let to81 = PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, dport: 81)
        #expect(try f.datapath.testRun(.toContainer, packet: to81).passed)
        let to80 = PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 7, dport: 80)
        #expect(try f.datapath.testRun(.toContainer, packet: to80).dropped)
    }
}

/// Pins left by a datapath with another map layout are reported as such, with the way out, not as a bare errno.
@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct IncompatiblePinsTests {
    @Test func aPinnedMapOfAnotherLayoutIsReportedWithTheCleanupCommand() throws {
        try Datapath.mountBPFFileSystem()
        let root = "/sys/fs/bpf/bulwark-test-\(getpid())-incompatible"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? Datapath.removePins(at: root) }
        // The selector map as an older version defined it: a 4-byte value where this version has a struct.
        let bpftool = Process()
        bpftool.executableURL = URL(fileURLWithPath: "/usr/sbin/bpftool")
        bpftool.arguments = [
            "map", "create", root + "/bulwark_selectors", "type", "hash", "key", "12", "value", "4", "entries", "16",
            "name", "bulwark_selectors", "flags", "1",
        ]
        try bpftool.run()
        bpftool.waitUntilExit()
        try #require(bpftool.terminationStatus == 0)
        #expect(throws: DatapathError.incompatiblePins(path: root)) { try Datapath(pinRoot: root) }
        #expect(DatapathError.incompatiblePins(path: root).description.contains("bulwark cleanup --bpf-root \(root)"))
    }
}
