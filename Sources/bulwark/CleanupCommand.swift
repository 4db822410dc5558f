import ArgumentParser
import Datapath
import Glibc

/// `bulwark cleanup`: remove every trace of Bulwark from a node (for uninstall).
struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Detach Bulwark's programs from every interface and remove its pinned maps and programs.",
        discussion: "Run before removing Bulwark from a node; without it the programs keep enforcing the last state."
    )

    @OptionGroup var node: NodeOptions

    func run() throws {
        var detached = 0
        do {
            let datapath = try Datapath(pinRoot: node.pinRoot)
            for ifindex in Self.interfaceIndexes() where (try? datapath.isAttached(ifindex: ifindex)) == true {
                if try datapath.detach(ifindex: ifindex) { detached += 1 }
            }
        }
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
