import DataplaneModel
import Testing
@testable import PolicyCompiler

/// The compiler's internal indexes against brute force: the CIDR index's longest-prefix answer and the ipcache's
/// batch merge.
@Suite struct CompilerIndexTests {
    static func selector(_ cidr: String, except: [String] = []) -> CIDRSelector {
        CIDRSelector(cidr: IPPrefix(cidr)!, except: except.map { IPPrefix($0)! })
    }

    static let selectors: Set<CIDRSelector> = [
        selector("0.0.0.0/0", except: ["10.0.0.0/8", "192.168.1.0/24"]),
        selector("0.0.0.0/0", except: ["10.0.0.0/8", "192.168.2.0/24"]),
        selector("10.0.0.0/8", except: ["10.1.0.0/16"]),
        selector("10.1.2.0/24"),
        selector("10.1.2.128/25", except: ["10.1.2.200/32"]),
        selector("10.1.2.200/32"),
        selector("fd00::/64", except: ["fd00::/120"]),
        selector("fd00::10/128"),
    ]

    @Test func theCIDRIndexMatchesAnAddressExactlyWhenTheSelectorContainsIt() {
        let index = CIDRIndex(Self.selectors)
        var random = SplitMix(seed: 7)
        var addresses = ["10.1.2.200", "10.1.2.199", "10.1.2.128", "10.1.3.1", "10.2.0.1", "192.168.1.9", "192.168.2.9",
            "8.8.8.8", "fd00::10", "fd00::1:1", "fd00::ff", "2001:db8::1"].map { IPAddress($0)! }
        for _ in 0..<2_000 {
            let octets = (0..<4).map { _ in UInt32(random.next() % 4) }
            // Addresses near the interesting prefixes: 10.1.2.x, 192.168.{1,2}.x and a few others.
            let base: [UInt32] = [0x0A01_0200, 0xC0A8_0100, 0xC0A8_0200, 0x0A00_0000 | octets[0] << 16]
            addresses.append(.v4(base[Int(octets[1])] | UInt32(random.next() % 256)))
            addresses.append(.v6(0xfd00_0000_0000_0000, random.next() % 512))
        }
        for address in addresses {
            let expected = Self.selectors.filter { $0.contains(IPPrefix(host: address)) }.sorted()
            #expect(index.matching(address) == expected, "\(address)")
        }
    }

    @Test(arguments: [5, 40, 300])
    func aBatchOfIPCacheUpdatesEqualsApplyingThemOneByOne(batchSize: Int) {
        var random = SplitMix(seed: UInt64(batchSize))
        var batched = SortedIPCache()
        var reference: [IPPrefix: Identity] = [:]
        for _ in 0..<6 {
            var updates: [IPPrefix: Identity?] = [:]
            for _ in 0..<batchSize {
                let prefix = IPPrefix(host: .v4(0x0A00_0000 | UInt32(random.next() % 512)))
                let identity = random.next() % 3 == 0 ? nil : Identity(rawValue: 256 + UInt32(random.next() % 4))
                updates[prefix] = identity
                reference[prefix] = identity
            }
            batched.apply(updates)
            let expected = reference.map { IPCacheEntry(prefix: $0.key, identity: $0.value) }.sorted { $0.prefix < $1.prefix }
            #expect(batched.entries == expected)
        }
    }
}
