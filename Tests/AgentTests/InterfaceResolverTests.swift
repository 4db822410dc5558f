import DataplaneModel
import Foundation
import Testing

@testable import Agent

/// Runs `ip` with the given arguments and fails the test when it exits non-zero.
@discardableResult
private func ip(_ arguments: String...) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite(.enabled(if: getuid() == 0, "creates a veth pair and routes: needs root"))
struct InterfaceResolverTests {
    @Test func aHostRouteToAPodAddressResolvesToItsInterface() throws {
        let name = "bwrt\(getpid() % 100_000)"
        let octet = Int(getpid() % 200) + 20
        let podAddress = "10.213.\(octet).7"
        // This kernel has no dummy interfaces; a veth pair stands in for a pod's host-side interface.
        try #require(try ip("link", "add", name, "type", "veth", "peer", "name", name + "p") == 0)
        defer { _ = try? ip("link", "del", name) }
        try #require(try ip("link", "set", name, "up") == 0)
        try #require(try ip("route", "add", "\(podAddress)/32", "dev", name, "scope", "link") == 0)

        let resolver = HostInterfaceResolver()
        let expected = if_nametoindex(name)
        #expect(try resolver.ifindex(addresses: [IPAddress(podAddress)!], interfaceName: nil) == expected)
        #expect(try resolver.ifindex(addresses: [], interfaceName: name) == expected)
    }

    @Test func loopbackIsNotAPodInterface() throws {
        #expect(throws: InterfaceResolutionError.notAPodInterface(IPAddress("127.0.0.1")!, interface: "lo")) {
            try HostInterfaceResolver().ifindex(addresses: [IPAddress("127.0.0.1")!], interfaceName: nil)
        }
    }

    /// The node's own subnet is routed directly out of its uplink, which is no pod's interface: attaching there would
    /// put one pod's policy on all of the node's traffic.
    @Test func onlyVethsArePodInterfaces() throws {
        let name = "bwbr\(getpid() % 100_000)"
        let octet = Int(getpid() % 200) + 20
        let address = "10.212.\(octet).7"
        try #require(try ip("link", "add", name, "type", "bridge") == 0)
        defer { _ = try? ip("link", "del", name) }
        try #require(try ip("link", "set", name, "up") == 0)
        try #require(try ip("route", "add", "\(address)/32", "dev", name, "scope", "link") == 0)

        let resolver = HostInterfaceResolver()
        #expect(throws: InterfaceResolutionError.notAPodInterface(IPAddress(address)!, interface: name)) {
            try resolver.ifindex(addresses: [IPAddress(address)!], interfaceName: nil)
        }
        #expect(throws: InterfaceResolutionError.notAVeth(name, kind: "bridge")) {
            try resolver.ifindex(addresses: [], interfaceName: name)
        }
        #expect(throws: InterfaceResolutionError.notAVeth("lo", kind: nil)) {
            try resolver.ifindex(addresses: [], interfaceName: "lo")
        }
    }

    @Test func anUnknownInterfaceNameIsReportedByName() {
        #expect(throws: InterfaceResolutionError.unknownInterface("bw-missing0")) {
            try HostInterfaceResolver().ifindex(addresses: [], interfaceName: "bw-missing0")
        }
    }
}
