import BulwarkTesting
import Datapath
import Foundation
import Testing

/// Cleaning up one datapath (`bulwark cleanup --bpf-root`) detaches its filters and nobody else's: two agents, a
/// test and a benchmark can share a host, and detaching another one's programs would silently stop enforcing there.
@Suite(.enabled(if: isRoot, "needs root for BPF and network namespaces"))
struct CleanupTests {
    @Test func cleanupDetachesOnlyTheFiltersThatUseItsPinRootsMaps() throws {
        let mine = try DatapathFixture(), theirs = try DatapathFixture()
        let myPod = try NetNSPod(), theirPod = try NetNSPod()
        try mine.datapath.attach(ifindex: myPod.ifindex)
        try theirs.datapath.attach(ifindex: theirPod.ifindex)
        #expect(try !mine.datapath.isAttached(ifindex: theirPod.ifindex), "another pin root's filter is not ours")

        let detached = try Datapath.detachFilters(ownedBy: mine.root, from: [myPod.ifindex, theirPod.ifindex])

        #expect(detached == 1)
        #expect(try !mine.datapath.isAttached(ifindex: myPod.ifindex))
        #expect(try theirs.datapath.isAttached(ifindex: theirPod.ifindex))
    }

    @Test func aPredecessorsFiltersOnTheSameMapsAreOwnedAndEveryOwnerTakesOrphansToo() throws {
        let fixture = try DatapathFixture(), orphanRoot = try DatapathFixture()
        let pod = try NetNSPod(), orphanPod = try NetNSPod()
        var first: Datapath? = try Datapath(pinRoot: fixture.root)
        try first!.attach(ifindex: pod.ifindex)
        first = nil  // an agent that exited: its programs stay attached, reading the pinned maps
        try orphanRoot.datapath.attach(ifindex: orphanPod.ifindex)
        try Datapath.removePins(at: orphanRoot.root)  // pins gone, filter left: nothing names its owner any more

        #expect(try fixture.datapath.isAttached(ifindex: pod.ifindex), "the predecessor's programs use our maps")
        #expect(try Datapath.detachFilters(ownedBy: orphanRoot.root, from: [orphanPod.ifindex]) == 0)
        #expect(try Datapath.detachFilters(ownedBy: orphanRoot.root, from: [orphanPod.ifindex], everyOwner: true) == 1)
        #expect(try Datapath.detachFilters(ownedBy: fixture.root, from: [pod.ifindex, orphanPod.ifindex]) == 1)
        #expect(try !fixture.datapath.isAttached(ifindex: pod.ifindex))
    }
}
