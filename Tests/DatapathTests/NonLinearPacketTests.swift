import BulwarkTesting
import DataplaneModel
import Foundation
import Testing

@testable import Datapath

/// A TAP device in NAPI-frags mode: each frame written as several segments arrives as a non-linear skb, the first
/// segment in the linear area and the rest in page fragments (GRO then pulls the Ethernet and IP headers, not the
/// transport header). `BPF_PROG_TEST_RUN` only builds linear skbs, so this is how tests reach the parser's path for
/// headers outside the linear area, which real NICs and tunnels produce.
private final class FragmentingTap {
    let name: String
    let ifindex: UInt32
    private let fd: Int32

    init() throws {
        let name = "bwtap\(getpid() % 100_000)"
        self.name = name
        let fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw NetNSError(command: "open /dev/net/tun", output: String(cString: strerror(errno))) }
        self.fd = fd
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (index, byte) in name.utf8.enumerated() { raw[index] = byte }
        }
        let tap: Int16 = 0x0002, noPacketInfo: Int16 = 0x1000, napi: Int16 = 0x0010, napiFrags: Int16 = 0x0020
        request.ifr_ifru.ifru_flags = tap | noPacketInfo | napi | napiFrags
        let setInterface: UInt = 0x4004_54CA  // TUNSETIFF
        guard ioctl(fd, setInterface, &request) == 0 else {
            close(fd)
            throw NetNSError(command: "TUNSETIFF \(name)", output: String(cString: strerror(errno)))
        }
        try NetNSPod.sh("ip", "link", "set", name, "up")
        ifindex = if_nametoindex(name)
    }

    /// Writes one frame as the given segments (one skb; each segment after the first is a page fragment).
    func send(_ segments: [[UInt8]]) throws {
        var frame = segments.flatMap { $0 }
        let written = frame.withUnsafeMutableBytes { raw in
            var offset = 0
            let vectors = segments.map { segment in
                defer { offset += segment.count }
                return iovec(iov_base: raw.baseAddress! + offset, iov_len: segment.count)
            }
            return writev(fd, vectors, Int32(vectors.count))
        }
        guard written == frame.count else {
            throw NetNSError(command: "writev to \(name)", output: String(cString: strerror(errno)))
        }
    }

    deinit { close(fd) }  // a non-persistent TAP device goes away with its descriptor
}

@Suite(.enabled(if: isRoot, "creates a TAP device and attaches programs: needs root"))
struct NonLinearPacketTests {
    typealias P = PacketBuilder

    /// The regression this guards: a parser that reads headers only in place must not treat "not in the linear
    /// area" as "allow" (or as malformed); it copies the header instead and decides as for a linear packet.
    @Test func headersOutsideTheLinearAreaAreJudgedLikeAnyOther() throws {
        let f = try DatapathFixture()
        let tap = try FragmentingTap()
        let policy = DirectionPolicy(
            isolation: .enforce, entries: [PolicyEntry(peer: Net.idA, proto: .tcp, ports: PortRange(80), rule: 7)])
        try f.datapath.program(
            DesiredState(
                endpoints: [
                    Endpoint(
                        pod: "test/tap", addresses: [IPAddress(Net.pod4)!], identity: Net.idPod, ifindex: tap.ifindex,
                        egress: policy)
                ],
                ipcache: Net.ipcache))
        try f.datapath.attach(ifindex: tap.ifindex)
        for dport: UInt16 in [80, 81] {
            let frame = P.packet(.tcp, from: Net.pod4, to: Net.a4, sport: 40_000 + dport, dport: dport)
            try tap.send([Array(frame[0..<14]), Array(frame[14..<34]), Array(frame[34...])])
        }
        let counted = Dictionary(
            uniqueKeysWithValues: try f.datapath.counters().map { ("\($0.rule) \($0.verdict)", $0.packets) })
        #expect(counted == ["7 allow": 1, "0 deny": 1])
        #expect(try f.datapath.statistics().malformed == 0)
    }
}
