import BPFShims
import DataplaneModel
import Foundation
import Testing

@testable import Datapath

/// The selector cache: the programs' inlined copies of the selectors. The programs must answer from a copy when the
/// bucket is whole and readable, from the hash when it is not, and the agent must keep copies and hash in step
/// through overflow, removals and whatever an earlier process left behind.
@Suite(.enabled(if: isRoot && SelectorCache.isEnabled, "needs root for BPF, and x86-64 for the cache"))
struct SelectorCacheTests {
    /// Loopback (the endpoint) isolated for ingress, allowing TCP 80 from identity A.
    let allowA = DirectionPolicy(
        isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(80), rule: 1)])

    private final class Probe {
        var port: UInt16 = 20_000
        /// Whether a fresh TCP SYN from `source` to `dport` passes (a new source port each time: no conntrack hit).
        func passes(_ datapath: Datapath, from source: String = Net.a4, dport: UInt16) throws -> Bool {
            port += 1
            let packet = PacketBuilder.packet(.tcp, from: source, to: Net.pod4, sport: port, dport: dport)
            return try datapath.testRun(.toContainer, packet: packet).passed
        }
    }

    /// The key of loopback's ingress selector for `identity` in its active generation.
    private func key(_ datapath: Datapath, _ identity: Identity) throws -> SelectorCache.Key {
        let epoch = try #require(try datapath.endpoints.lookup(UInt32(1), as: bulwark_endpoint.self)).policy_epoch
        return SelectorCache.Key(endpoint: 1, identity: identity.rawValue, dirEpoch: epoch << 1)
    }

    private func bucket(_ datapath: Datapath, _ index: UInt32) throws -> bulwark_selector_bucket {
        try #require(try datapath.selectorCache.map.lookup(index, as: bulwark_selector_bucket.self))
    }

    /// What the datapath reports of the selector copies' overflow (the figure behind the agent's metric).
    private func selectorOverflow(_ datapath: Datapath) -> Int? {
        datapath.copyTableOverflow().first { $0.table == "selectors" }?.entries
    }

    private func heldKeys(_ bucket: bulwark_selector_bucket) -> Set<SelectorCache.Key> {
        var bucket = bucket
        return Set(
            (0..<UInt32(BULWARK_SELECTOR_WAYS)).map { bulwark_selector_bucket_key(&bucket, $0) }
                .filter { $0.endpoint != 0 }.map(SelectorCache.Key.init))
    }

    /// The way holding `key` (the test's forgeries edit it).
    private func way(of key: SelectorCache.Key, in bucket: bulwark_selector_bucket) throws -> UInt32 {
        var bucket = bucket
        return try #require(
            (0..<UInt32(BULWARK_SELECTOR_WAYS)).first { SelectorCache.Key(bulwark_selector_bucket_key(&bucket, $0)) == key })
    }

    @Test func programmedSelectorsAreCopiedIntoCompleteBuckets() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: allowA))
        let a = try key(f.datapath, Net.idA)
        let held = try bucket(f.datapath, a.bucket)
        #expect(heldKeys(held) == [a])
        #expect(held.complete == 1 && held.sequence % 2 == 0 && held.sequence > 0)
        #expect(selectorOverflow(f.datapath) == 0)
    }

    /// Forged copies show which source the programs read: the copy when the bucket is readable and whole, the hash
    /// when its sequence is odd (a write in progress) or it is incomplete.
    @Test func theProgramsReadTheCopyOnlyWhenItIsSafe() throws {
        let f = try DatapathFixture()
        let probe = Probe()
        try f.datapath.program(Net.state(ingress: allowA))
        let a = try key(f.datapath, Net.idA)
        let original = try bucket(f.datapath, a.bucket)
        let way = try way(of: a, in: original)

        // The copy is edited to allow port 81 instead of 80; the hash still says 80.
        var forged = original
        var value = bulwark_selector_bucket_value(&forged, way)
        #expect(value.inline_count == 1)
        value.keys.0.dport = (0, 81)
        bulwark_selector_bucket_set(&forged, way, a.raw, value)
        try f.datapath.selectorCache.map.update(a.bucket, forged)
        #expect(try probe.passes(f.datapath, dport: 81) && !probe.passes(f.datapath, dport: 80), "copy read")

        forged.sequence |= 1
        try f.datapath.selectorCache.map.update(a.bucket, forged)
        #expect(try probe.passes(f.datapath, dport: 80) && !probe.passes(f.datapath, dport: 81), "odd: hash read")

        // Without the copy, a complete bucket means "no selector": A is denied although the hash allows it.
        var emptied = original
        bulwark_selector_bucket_set(&emptied, way, zeroed(bulwark_selector_key.self), zeroed(bulwark_selector_value.self))
        try f.datapath.selectorCache.map.update(a.bucket, emptied)
        #expect(try !probe.passes(f.datapath, dport: 80), "complete bucket trusted")
        emptied.complete = 0
        try f.datapath.selectorCache.map.update(a.bucket, emptied)
        #expect(try probe.passes(f.datapath, dport: 80), "incomplete bucket: hash read")
    }

    /// Every key of a copy is read, whether the main program scans it in line (selectors of up to
    /// INLINE_FAST_KEYS keys) or the global policy function does (larger selectors): each copied key is moved to
    /// another port while the hash keeps the old ones, so only a program reading the copy lets the new ports pass.
    @Test(arguments: 1...Int(BULWARK_SELECTOR_INLINE))
    func everyCopiedKeyIsRead(keys: Int) throws {
        let f = try DatapathFixture()
        let probe = Probe()
        let ports: [UInt16] = Array([80, 443, 8080, 9000].prefix(keys))
        let entries = ports.enumerated().map { index, port in
            PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(port), rule: RuleID(rawValue: UInt32(index + 1)))
        }
        try f.datapath.program(Net.state(ingress: DirectionPolicy(isolation: .enforce, entries: entries)))
        let a = try key(f.datapath, Net.idA)
        var forged = try bucket(f.datapath, a.bucket)
        let way = try way(of: a, in: forged)
        var value = bulwark_selector_bucket_value(&forged, way)
        #expect(Int(value.inline_count) == keys)
        withUnsafeMutableBytes(of: &value.keys) { raw in
            for (index, copied) in raw.bindMemory(to: bulwark_inline_key.self).prefix(keys).enumerated() {
                let port = (UInt16(copied.dport.0) << 8 | UInt16(copied.dport.1)) + 1
                raw.bindMemory(to: bulwark_inline_key.self)[index].dport = (UInt8(port >> 8), UInt8(port & 0xFF))
            }
        }
        bulwark_selector_bucket_set(&forged, way, a.raw, value)
        try f.datapath.selectorCache.map.update(a.bucket, forged)
        for port in ports {
            #expect(try probe.passes(f.datapath, dport: port + 1), "copied key for \(port) read")
            #expect(try !probe.passes(f.datapath, dport: port), "hash not read for \(port)")
        }
    }

    /// More selectors than ways in one bucket: the extra ones are judged through the hash (the bucket is marked
    /// incomplete), and move into the ways that removals free.
    @Test func anOverflowingBucketDefersToTheHashUntilWaysFree() throws {
        let f = try DatapathFixture()
        let probe = Probe()
        try f.datapath.program(Net.state(ingress: DirectionPolicy(isolation: .enforce, entries: [])))
        // Identities whose selectors share one bucket in the active generation (kept: only exact selectors change).
        let first = try key(f.datapath, Identity(rawValue: 10_000))
        let colliding = (UInt32(10_000)..<UInt32(2_000_000)).lazy.filter {
            SelectorCache.Key(endpoint: 1, identity: $0, dirEpoch: first.dirEpoch).bucket == first.bucket
        }.prefix(7).map { Identity(rawValue: $0) }.reduce(into: [Identity]()) { $0.append($1) }
        // The first six get a port each; the seventh no selector at all.
        let allowed = Array(colliding.prefix(6))
        func address(_ index: Int) -> String { "10.9.0.\(index + 1)" }
        func port(_ index: Int) -> UInt16 { UInt16(9_000 + index) }
        func state(_ identities: [Identity]) -> DesiredState {
            var state = Net.state(
                ingress: DirectionPolicy(
                    isolation: .enforce,
                    entries: identities.map { identity in
                        let index = colliding.firstIndex(of: identity)!
                        return PolicyEntry(
                            peer: identity, proto: .tcp, ports: PortRange(port(index)),
                            rule: RuleID(rawValue: UInt32(index + 1)))
                    }))
            state.ipcache += colliding.enumerated().map { index, identity in
                IPCacheEntry(prefix: IPPrefix("\(address(index))/32")!, identity: identity)
            }
            return state
        }
        func check(_ live: [Identity]) throws {
            for (index, identity) in colliding.enumerated() {
                #expect(try probe.passes(f.datapath, from: address(index), dport: port(index)) == live.contains(identity))
                #expect(try !probe.passes(f.datapath, from: address(index), dport: 9_100))
            }
        }

        try f.datapath.program(state(allowed))
        #expect(try key(f.datapath, allowed[0]).dirEpoch == first.dirEpoch, "written in place")
        var held = try bucket(f.datapath, first.bucket)
        #expect(heldKeys(held).count == 4 && held.complete == 0)
        #expect(selectorOverflow(f.datapath) == 2)
        try check(allowed)

        let kept = Array(allowed.suffix(3))
        try f.datapath.program(state(kept))
        held = try bucket(f.datapath, first.bucket)
        #expect(heldKeys(held) == Set(try kept.map { try key(f.datapath, $0) }) && held.complete == 1)
        #expect(selectorOverflow(f.datapath) == 0)
        try check(kept)
    }

    @Test func copiesLeftStaleByAnEarlierAgentAreRepairedByTheNextAgentsFirstProgram() throws {
        let f = try DatapathFixture()
        let probe = Probe()
        try f.datapath.program(Net.state(ingress: allowA))
        // As if an agent died mid-write: a copy for B (which the hash lacks) in a complete bucket, and A's bucket odd.
        let a = try key(f.datapath, Net.idA)
        let b = SelectorCache.Key(endpoint: 1, identity: Net.idB.rawValue, dirEpoch: a.dirEpoch)
        var aBucket = try bucket(f.datapath, a.bucket)
        let copyOfA = bulwark_selector_bucket_value(&aBucket, try way(of: a, in: aBucket))
        var forged = try bucket(f.datapath, b.bucket)
        let freeWay: UInt32 = a.bucket == b.bucket ? 1 : 0
        bulwark_selector_bucket_set(&forged, freeWay, b.raw, copyOfA)
        forged.complete = 1
        try f.datapath.selectorCache.map.update(b.bucket, forged)
        #expect(try probe.passes(f.datapath, from: Net.b4, dport: 80), "the stale copy is read")

        let restarted = try Datapath(pinRoot: f.root)
        try restarted.program(Net.state(ingress: allowA))
        #expect(try !probe.passes(restarted, from: Net.b4, dport: 80))
        #expect(try probe.passes(restarted, from: Net.a4, dport: 80))
        #expect(heldKeys(try bucket(restarted, b.bucket)).contains(b) == false)
        #expect(heldKeys(try bucket(restarted, a.bucket)).contains(a))
    }

    /// Pins of ABI 5, which had no bucket table: the next agent creates it beside them, and until its first program
    /// fills it, the all-zero buckets (incomplete) send every lookup to the hash, so verdicts do not change.
    @Test func pinsWithoutTheTableAreAdoptedAndJudgedByTheHashUntilFilled() throws {
        let f = try DatapathFixture()
        let probe = Probe()
        try f.datapath.program(Net.state(ingress: allowA))
        #expect(unlink(f.root + "/bulwark_selector_cache") == 0)

        let upgraded = try Datapath(pinRoot: f.root)
        let a = try key(upgraded, Net.idA)
        #expect(heldKeys(try bucket(upgraded, a.bucket)).isEmpty)
        #expect(try probe.passes(upgraded, from: Net.a4, dport: 80) && !probe.passes(upgraded, from: Net.b4, dport: 80))
        try upgraded.program(Net.state(ingress: allowA))
        #expect(heldKeys(try bucket(upgraded, a.bucket)) == [a])
        #expect(try probe.passes(upgraded, from: Net.a4, dport: 80) && !probe.passes(upgraded, from: Net.b4, dport: 80))
    }

    /// A bucket rewritten over and over, on the other CPU, while a million packets are judged: every read sees a
    /// whole bucket or notices the write (odd or changed sequence) and asks the hash. The two contents both allow A's
    /// packets (one by its copy, the other by sending A to the hash), but half of one and half of the other would
    /// not: A's key with the other way's value, or "complete" without A's copy, drops them.
    @Test func noPacketIsJudgedByAHalfWrittenBucket() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Net.state(ingress: allowA))
        let a = try key(f.datapath, Net.idA)
        let whole = try bucket(f.datapath, a.bucket)
        var other = whole
        let way = try way(of: a, in: whole)
        var value = bulwark_selector_bucket_value(&other, way)
        value.keys.0.dport = (0, 9)
        let stranger = SelectorCache.Key(endpoint: 1, identity: 999_999, dirEpoch: a.dirEpoch)
        bulwark_selector_bucket_set(&other, way, stranger.raw, value)
        other.complete = 0

        let packet = PacketBuilder.packet(.tcp, from: Net.a4, to: Net.pod4, sport: 30_000, dport: 80)
        let race = try BucketRace.run(
            f.datapath, f.datapath.selectorCache, bucket: a.bucket, alternating: [other, whole], packet: packet)
        #expect(race.denied == 0 && race.allowed == 1_000_000)
        #expect(race.writes > 10_000, "the bucket changed throughout")
    }
}
