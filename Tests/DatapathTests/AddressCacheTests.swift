import BPFShims
import DataplaneModel
import Foundation
import Testing

@testable import Datapath

/// The address copies: the programs' inlined copies of the ipcache's host entries. A copy must give the identity the
/// trie gives (a host entry is its address's longest prefix), be read only from a bucket no write is changing, and
/// leave every other address to the trie.
@Suite(.enabled(if: isRoot && AddressCache.isEnabled, "needs root for BPF, and x86-64 for the copies"))
struct AddressCacheTests {
    /// 10.0.1.7 lies in A's /24 but is B's by its own /32; 10.0.1.8 is A's by the /24 alone.
    static let b7 = "10.0.1.7", a8 = "10.0.1.8"
    /// Loopback isolated for ingress, allowing TCP 80 from identity A only.
    static func state() -> DesiredState {
        var state = Net.state(
            ingress: DirectionPolicy(
                isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(80), rule: 1)]))
        state.ipcache.append(IPCacheEntry(prefix: IPPrefix("\(b7)/32")!, identity: Net.idB))
        return state
    }

    private static func address(_ text: String) -> IPAddress { IPAddress(text)! }

    private func bucket(_ datapath: Datapath, of address: IPAddress) throws -> bulwark_address_bucket {
        try #require(try datapath.addressCache.map.lookup(AddressCopies.bucket(of: address), as: bulwark_address_bucket.self))
    }

    private func copies(_ bucket: bulwark_address_bucket) -> [IPAddress: UInt32] {
        Dictionary(uniqueKeysWithValues: AddressCopies.ways(of: bucket).ways.compactMap { $0 })
    }

    private func passes(_ datapath: Datapath, from source: String, sport: UInt16) throws -> Bool {
        let packet = PacketBuilder.packet(.tcp, from: source, to: Net.pod4, sport: sport, dport: 80)
        return try datapath.testRun(.toContainer, packet: packet).passed
    }

    @Test func hostEntriesAreCopiedAndPrefixesAreLeftToTheTrie() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Self.state())
        for (host, identity) in [(Self.b7, Net.idB), (Net.pod4, Net.idPod), (Net.pod6, Net.idPod), (Net.host4, .host)] {
            let address = Self.address(host)
            #expect(copies(try bucket(f.datapath, of: address))[address] == identity.rawValue, "\(host)")
        }
        #expect(copies(try bucket(f.datapath, of: Self.address(Self.a8)))[Self.address(Self.a8)] == nil)
        #expect(try !passes(f.datapath, from: Self.b7, sport: 1) && passes(f.datapath, from: Self.a8, sport: 2))

        // The /32 goes: its copy goes first, and 10.0.1.7 is A's again by the /24.
        try f.datapath.program(Net.state(ingress: Self.state().endpoints[0].ingress))
        #expect(copies(try bucket(f.datapath, of: Self.address(Self.b7)))[Self.address(Self.b7)] == nil)
        #expect(try passes(f.datapath, from: Self.b7, sport: 3))
    }

    /// A forged copy shows the programs read it, and only while its bucket's sequence is even.
    @Test func theProgramsReadACopyOnlyFromABucketNoWriteIsChanging() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Self.state())
        let b7 = Self.address(Self.b7)
        var forged = try bucket(f.datapath, of: b7)
        let way = try #require(AddressCopies.ways(of: forged).ways.firstIndex { $0?.key == b7 })
        bulwark_address_bucket_set(&forged, UInt32(way), AddressCopies.raw(b7), Net.idA.rawValue)
        try f.datapath.addressCache.map.update(AddressCopies.bucket(of: b7), forged)
        #expect(try passes(f.datapath, from: Self.b7, sport: 1), "the copy is read")
        forged.sequence |= 1
        try f.datapath.addressCache.map.update(AddressCopies.bucket(of: b7), forged)
        #expect(try !passes(f.datapath, from: Self.b7, sport: 2), "odd sequence: the trie is read")
    }

    /// A bucket flipped, on the other CPU, between 10.0.1.7's true copy (B) and a copy of 10.0.1.8 (A, as the trie
    /// says) throughout a million verdicts: 10.0.1.7 must always be B. Its key with the other content's identity
    /// would make it A and let its packets through.
    @Test func noPacketIsJudgedByAHalfWrittenBucket() throws {
        let f = try DatapathFixture()
        try f.datapath.program(Self.state())
        let (b7, a8) = (Self.address(Self.b7), Self.address(Self.a8))
        let index = AddressCopies.bucket(of: b7)
        let truth = try bucket(f.datapath, of: b7)
        let way = try #require(AddressCopies.ways(of: truth).ways.firstIndex { $0?.key == b7 })
        var other = truth
        bulwark_address_bucket_set(&other, UInt32(way), AddressCopies.raw(a8), Net.idA.rawValue)

        let packet = PacketBuilder.packet(.tcp, from: Self.b7, to: Net.pod4, sport: 30_000, dport: 80)
        let race = try BucketRace.run(
            f.datapath, f.datapath.addressCache, bucket: index, alternating: [other, truth], packet: packet)
        #expect(race.allowed == 0 && race.denied == 1_000_000)
        #expect(race.writes > 10_000, "the bucket changed throughout")
    }
}
