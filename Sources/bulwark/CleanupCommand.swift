import ArgumentParser
import Datapath
import Glibc

/// `bulwark cleanup`: remove every trace of Bulwark from a node (for uninstall).
struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Detach the programs that use this pin root's maps from every interface, and remove the pins.",
        discussion: "Run before removing Bulwark from a node; without it the programs keep enforcing the last state."
    )

    @OptionGroup var node: NodeOptions

    @Flag(help: """
        Also detach Bulwark filters that do not use this pin root's maps: another pin root's, or orphans whose pins \
        were removed. Without it, another agent's or test's pods stay protected.
        """)
    var allFilters = false

    func run() throws {
        let detached = try Datapath.detachFilters(
            ownedBy: node.pinRoot, from: Self.interfaceIndexes(), everyOwner: allFilters)
        try Datapath.removePins(at: node.pinRoot)
        print("detached from \(detached) interface(s); removed pins under \(node.pinRoot)")
    }

    /// Every interface index on this host.
    static func interfaceIndexes() -> [UInt32] {
        guard let list = if_nameindex() else { return [] }
        defer { if_freenameindex(list) }
        var indexes: [UInt32] = []
        var cursor = list
        while cursor.pointee.if_index != 0 {
            indexes.append(cursor.pointee.if_index)
            cursor += 1
        }
        return indexes
    }
}
