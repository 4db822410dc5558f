import DataplaneModel

/// The CIDR selectors of all accepted policies, indexed so that "which selectors contain this address?" costs one
/// hash lookup per distinct prefix length instead of a scan over every selector.
struct CIDRIndex: Sendable {
    private(set) var selectors: Set<CIDRSelector> = []
    private var byCIDR: [IPPrefix: [CIDRSelector]] = [:]
    private var byExcept: [IPPrefix: [CIDRSelector]] = [:]
    private var cidrLengths: [Bool: [Int]] = [:]
    private var exceptLengths: [Bool: [Int]] = [:]

    init(_ selectors: Set<CIDRSelector> = []) {
        self.selectors = selectors
        for selector in selectors {
            byCIDR[selector.cidr, default: []].append(selector)
            for except in selector.except { byExcept[except, default: []].append(selector) }
        }
        for isV4 in [true, false] {
            cidrLengths[isV4] = Set(byCIDR.keys.filter { $0.address.isV4 == isV4 }.map(\.length)).sorted()
            exceptLengths[isV4] = Set(byExcept.keys.filter { $0.address.isV4 == isV4 }.map(\.length)).sorted()
        }
    }

    /// Every prefix the ipcache needs so that a longest-prefix match lands on a prefix whose matched selector set is
    /// that of the address: every `cidr`, every `except`, and the two default routes.
    var prefixes: Set<IPPrefix> {
        var result = Set(byCIDR.keys).union(byExcept.keys)
        result.insert(IPPrefix("0.0.0.0/0")!)
        result.insert(IPPrefix("::/0")!)
        return result
    }

    /// The selectors containing every address of `prefix` (sorted). Exact for the prefixes in `prefixes` and for
    /// host prefixes: either all of their addresses are in a cidr/except or none is.
    func matching(_ prefix: IPPrefix) -> [CIDRSelector] {
        guard !byCIDR.isEmpty else { return [] }
        let isV4 = prefix.address.isV4
        var matched = Set<CIDRSelector>()
        for length in cidrLengths[isV4] ?? [] where length <= prefix.length {
            if let found = byCIDR[IPPrefix(address: prefix.address, length: length)!] { matched.formUnion(found) }
        }
        guard !matched.isEmpty else { return [] }
        for length in exceptLengths[isV4] ?? [] where length <= prefix.length {
            if let found = byExcept[IPPrefix(address: prefix.address, length: length)!] { matched.subtract(found) }
        }
        return matched.sorted()
    }
}
