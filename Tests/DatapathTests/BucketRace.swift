import BPFShims
import Foundation
import Synchronization

@testable import Datapath

/// What a million verdicts saw while a bucket was being rewritten.
struct BucketRace {
    var allowed: UInt64
    var denied: UInt64
    var writes: Int

    /// Runs `packet` through the ingress program a million times while another thread rewrites bucket `index` of
    /// `table`, alternating between `contents`, through a mapping of its own (with the layout's seqcount writer).
    static func run<Layout: CopyLayout>(
        _ datapath: Datapath, _ table: CopyTable<Layout>, bucket index: UInt32, alternating contents: [Layout.Bucket],
        packet: [UInt8]
    ) throws -> BucketRace {
        let size = Layout.bucketCount * MemoryLayout<Layout.Bucket>.stride
        guard let base = bulwark_map_mmap(table.map.fd, size) else { throw POSIXError(.EINVAL) }
        defer { _ = bulwark_map_munmap(base, size) }
        let writer = Writer()
        let address = UInt(bitPattern: base)
        nonisolated(unsafe) let contents = contents
        Thread {
            let base = UnsafeMutableRawPointer(bitPattern: address)!
            while !writer.stop.load(ordering: .relaxed) {
                for content in contents { Layout.store(base, index, content) }
                writer.writes.add(contents.count, ordering: .relaxed)
            }
            writer.done.signal()
        }.start()

        let before = try datapath.statistics()
        defer {
            writer.stop.store(true, ordering: .relaxed)
            writer.done.wait()
        }
        for _ in 0..<20 { _ = try datapath.testRun(.toContainer, packet: packet, repeat: 50_000) }
        let after = try datapath.statistics()
        return BucketRace(
            allowed: after.policyAllowed - before.policyAllowed, denied: after.policyDenied - before.policyDenied,
            writes: writer.writes.load(ordering: .relaxed))
    }
}

/// The rewriting thread's controls.
private final class Writer: Sendable {
    let stop = Atomic<Bool>(false)
    let writes = Atomic<Int>(0)
    let done = DispatchSemaphore(value: 0)
}
