import DataplaneModel

/// The CIDR selectors of all accepted policies, indexed so that "which selectors contain this address?" costs one
/// hash lookup per distinct prefix length, with no set arithmetic per address.
///
/// Why that works: `prefixes` holds every `cidr`, every `except` and the default routes, and each prefix's matched
/// selector set is computed once. An address is in a selector exactly when the longest of these prefixes that
/// contains it is (a longer `except` containing the address would itself be the longest), so an address costs a
/// longest-prefix match, the same lookup the datapath does in the ipcache.
struct CIDRIndex: Sendable {
    private(set) var selectors: Set<CIDRSelector> = []
    /// Every prefix the ipcache needs so that a longest-prefix match lands on a prefix whose matched selector set is
    /// that of the address: every `cidr`, every `except`, and the two default routes.
    private(set) var prefixes: Set<IPPrefix> = []
    /// The selectors each prefix of `prefixes` falls into (sorted).
    private(set) var prefixSelectors: [IPPrefix: [CIDRSelector]] = [:]
    /// The lengths present in `prefixes`, longest first, for IPv4 (true) and IPv6 (false).
    private var lengths: [Bool: [Int]] = [:]

    init(_ selectors: Set<CIDRSelector> = []) {
        self.selectors = selectors
        var byCIDR: [IPPrefix: [CIDRSelector]] = [:]
        var byExcept: [IPPrefix: [CIDRSelector]] = [:]
        for selector in selectors {
            byCIDR[selector.cidr, default: []].append(selector)
            for except in selector.except { byExcept[except, default: []].append(selector) }
        }
        prefixes = Set(byCIDR.keys).union(byExcept.keys)
        prefixes.insert(IPPrefix("0.0.0.0/0")!)
        prefixes.insert(IPPrefix("::/0")!)
        let boundLengths = Set(prefixes.map(\.length)).sorted()
        for prefix in prefixes {
            prefixSelectors[prefix] = Self.matching(prefix, boundLengths, byCIDR: byCIDR, byExcept: byExcept)
        }
        for isV4 in [true, false] {
            lengths[isV4] = Set(prefixes.filter { $0.address.isV4 == isV4 }.map(\.length)).sorted(by: >)
        }
    }

    /// The selectors containing `address` (sorted): those of the longest prefix of `prefixes` containing it.
    func matching(_ address: IPAddress) -> [CIDRSelector] {
        for length in lengths[address.isV4] ?? [] {
            if let found = prefixSelectors[IPPrefix(address: address, length: length)!] { return found }
        }
        return []
    }

    /// The selectors containing every address of `prefix` that no longer prefix of the index covers: the cidrs
    /// containing it, minus those with an `except` containing it. One lookup per bound length (sorted) up to its own.
    private static func matching(
        _ prefix: IPPrefix, _ boundLengths: [Int], byCIDR: [IPPrefix: [CIDRSelector]],
        byExcept: [IPPrefix: [CIDRSelector]]
    ) -> [CIDRSelector] {
        let lengths = boundLengths.prefix { $0 <= prefix.length }
        var matched = Set<CIDRSelector>()
        for length in lengths {
            if let found = byCIDR[IPPrefix(address: prefix.address, length: length)!] { matched.formUnion(found) }
        }
        guard !matched.isEmpty else { return [] }
        for length in lengths {
            if let found = byExcept[IPPrefix(address: prefix.address, length: length)!] { matched.subtract(found) }
        }
        return matched.sorted()
    }
}
