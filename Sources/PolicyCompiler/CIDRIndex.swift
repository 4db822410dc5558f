import DataplaneModel

/// The CIDR selectors of all accepted policies, indexed so that "which selectors contain this address?" costs one
/// hash lookup per distinct prefix length, with no set arithmetic per address.
///
/// Why that works: `prefixes` holds every `cidr`, every `except` and the default routes, and each prefix's matched
/// selector set is computed once. An address is in a selector exactly when the longest of these prefixes that
/// contains it is (a longer `except` containing the address would itself be the longest), so an address costs a
/// longest-prefix match, the same lookup the datapath does in the ipcache.
struct CIDRIndex: Sendable {
    /// Every prefix the ipcache needs so that a longest-prefix match lands on a prefix whose matched selector set is
    /// that of the address: every `cidr`, every `except`, and the two default routes.
    private(set) var prefixes: Set<IPPrefix> = []
    /// The selectors each prefix of `prefixes` falls into (sorted).
    private(set) var prefixSelectors: [IPPrefix: [CIDRSelector]] = [:]
    /// The lengths present in `prefixes`, longest first, for IPv4 (true) and IPv6 (false).
    private var lengths: [Bool: [Int]] = [:]

    init(_ selectors: Set<CIDRSelector> = []) {
        // Selectors by position in sorted order, so a prefix's matches are flags, read back already sorted.
        let ordered = selectors.sorted()
        var byCIDR: [IPPrefix: [Int]] = [:]
        var byExcept: [IPPrefix: [Int]] = [:]
        for (position, selector) in ordered.enumerated() {
            byCIDR[selector.cidr, default: []].append(position)
            for except in selector.except { byExcept[except, default: []].append(position) }
        }
        prefixes = Set(byCIDR.keys).union(byExcept.keys)
        prefixes.insert(IPPrefix("0.0.0.0/0")!)
        prefixes.insert(IPPrefix("::/0")!)
        let boundLengths = Set(prefixes.map(\.length)).sorted()
        var inside = [Bool](repeating: false, count: ordered.count)
        for prefix in prefixes {
            // The cidrs containing every address of `prefix` that no longer prefix of the index covers, minus those
            // with an `except` containing it: one lookup per bound length up to the prefix's own.
            let bounds = boundLengths.prefix { $0 <= prefix.length }
            var candidates: [Int] = []
            for length in bounds {
                for position in byCIDR[IPPrefix(address: prefix.address, length: length)!] ?? [] {
                    inside[position] = true
                    candidates.append(position)
                }
            }
            for length in bounds where !candidates.isEmpty {
                for position in byExcept[IPPrefix(address: prefix.address, length: length)!] ?? [] { inside[position] = false }
            }
            prefixSelectors[prefix] = candidates.sorted().filter { inside[$0] }.map { ordered[$0] }
            for position in candidates { inside[position] = false }
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
}
