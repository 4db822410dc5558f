import DataplaneModel
import Testing

@testable import Datapath

@Suite(.enabled(if: isRoot, "needs root for BPF"))
struct UsageTests {
    @Test func usageCountsWhatTheMapsHoldAgainstTheirCapacity() throws {
        let f = try DatapathFixture()
        let empty = Dictionary(uniqueKeysWithValues: try f.datapath.usage().map { ($0.map, $0) })
        #expect(empty["bulwark_ipcache"]?.entries == 0)
        #expect(empty["bulwark_endpoints"]?.capacity == 4096)

        try f.datapath.program(Net.state(ingress: DirectionPolicy(isolation: .enforce)))
        let usage = Dictionary(uniqueKeysWithValues: try f.datapath.usage().map { ($0.map, $0) })
        #expect(usage["bulwark_ipcache"]?.entries == Net.ipcache.count)
        #expect(usage["bulwark_endpoints"]?.entries == 1)
        let ratio = try #require(usage["bulwark_ipcache"]?.fillRatio)
        #expect(ratio > 0 && ratio < 0.001)
        #expect(Set(usage.keys).isSuperset(of: ["bulwark_policy", "bulwark_selectors", "bulwark_conntrack"]))
    }
}
