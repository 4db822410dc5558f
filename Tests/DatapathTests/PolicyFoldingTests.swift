import DataplaneModel
import Testing

@testable import Datapath

/// The pure part: port blocks and LPM folding (no root needed).
struct PolicyFoldingTests {
    @Test(arguments: [(UInt16(0), UInt16(65535)), (1, 1), (1000, 2000), (80, 443), (0, 0), (65535, 65535), (1, 65534)])
    func portBlocksCoverExactlyTheRange(first: UInt16, last: UInt16) {
        let blocks = PolicyFolding.portBlocks(PortRange(first, last))
        var covered = 0
        for block in blocks {
            let size = 1 << (16 - block.bits)
            #expect(Int(block.base) % size == 0, "aligned")
            covered += size
        }
        #expect(covered == Int(last) - Int(first) + 1)
        #expect(blocks.count <= 30)
        #expect(Int(blocks.first!.base) == Int(first))
    }

    @Test func aNarrowKeyCarriesTheFlagsOfEveryBroaderEntryCoveringIt() {
        let policy = DirectionPolicy(
            isolation: .enforce,
            entries: [
                PolicyEntry(peer: Net.idA, rule: 10),
                PolicyEntry(peer: Net.idA, proto: .tcp, rule: 11),
                PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(22), action: .deny, rule: 12),
                PolicyEntry(
                    peer: Net.idA, proto: .tcp, ports: PortRange(20, 23), action: .allow, mode: .audit, rule: 13),
            ])
        let folded = PolicyFolding.fold(policy)[Net.idA.rawValue] ?? [:]
        let port22 = folded.first { $0.key.port == 22 && $0.key.prefixLength == 56 }
        let value = try? #require(port22?.value)
        #expect(value?.flags == 0xF)
        #expect(value?.enforceRule == 12 && value?.auditRule == 12)
        let any = folded.first { $0.key.prefixLength == 32 }?.value
        #expect(any == PolicyValue(flags: 0x5, enforceRule: 10, auditRule: 10))
    }

    /// The longest matching key must carry exactly the fold of every entry matching the port, for small groups
    /// (pairwise folding) and large ones (ancestor lookups) alike.
    @Test(arguments: [10, 200])
    func theLongestMatchAlwaysCarriesEveryMatchingEntry(entryCount: Int) {
        var entries: [PolicyEntry] = [PolicyEntry(peer: Net.idA, proto: .tcp, rule: 1)]
        for index in 0..<entryCount {
            let first = UInt16(index * 37 % 1900)
            entries.append(
                PolicyEntry(
                    peer: Net.idA, proto: .tcp, ports: PortRange(first, first + UInt16(index % 90)),
                    action: index % 3 == 0 ? .deny : .allow, mode: index % 4 == 0 ? .audit : .enforce,
                    rule: RuleID(rawValue: UInt32(10 + index))))
        }
        let folded = PolicyFolding.fold(DirectionPolicy(isolation: .enforce, entries: entries))[Net.idA.rawValue] ?? [:]
        for port in UInt16(0)..<2000 {
            let longest = folded.filter { key, _ in
                key.prefixLength == 32 || PortKey(proto: 6, port: port, prefixLength: 56).isCovered(by: key)
            }.max { $0.key.prefixLength < $1.key.prefixLength }
            var expected = PolicyFolding.Fold()
            for entry in entries where entry.ports?.contains(port) ?? true { expected.add(entry) }
            #expect(longest?.value == expected.value, "port \(port)")
        }
    }
}

extension PortKey {
    func isCovered(by key: PortKey) -> Bool { key == self || key.covers(self) }
}
