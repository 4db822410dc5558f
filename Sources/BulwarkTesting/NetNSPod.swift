import Foundation
import Synchronization

/// A "pod" for real-traffic tests: a network namespace joined to the host by a veth pair, routed like a CNI does it
/// (pod address /32 on `eth0`, default route via 169.254.1.1 answered by proxy ARP on the host side, a host route
/// per pod, forwarding enabled on the host-side veth only, so the machine's global settings stay untouched).
///
/// Names include the process id and a counter, so concurrent test processes never collide; `deinit` deletes the
/// namespace (which deletes the veth pair and its host route) even when the test failed.
public final class NetNSPod: @unchecked Sendable {
    public let namespace: String
    /// Host-side veth: where Bulwark's programs attach.
    public let hostInterface: String
    public let ifindex: UInt32
    /// The pod's IPv4 address.
    public let address: String

    private var servers: [LineChannel] = []
    private var prober: LineChannel?
    private let lock = NSLock()

    private static let counter = Atomic<Int>(0)

    /// Creates the namespace, veth pair, addresses and routes.
    public init() throws {
        let index = Self.counter.add(1, ordering: .relaxed).newValue
        let pid = Int(getpid())
        namespace = "bwk-\(pid)-\(index)"
        hostInterface = "bw\(pid % 1_000_000)x\(index)"
        address = "10.213.\(pid % 250).\(index % 250 + 2)"
        do {
            try Self.sh("ip", "netns", "add", namespace)
            try Self.sh("ip", "link", "add", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            try Self.sh("ip", "link", "set", hostInterface, "up")
            try Self.sh(
                "sysctl", "-qw", "net.ipv4.conf.\(hostInterface).forwarding=1",
                "net.ipv4.conf.\(hostInterface).proxy_arp=1", "net.ipv4.neigh.\(hostInterface).proxy_delay=0")
            try Self.sh("ip", "-n", namespace, "link", "set", "lo", "up")
            try Self.sh("ip", "-n", namespace, "link", "set", "eth0", "up")
            try Self.sh("ip", "-n", namespace, "addr", "add", "\(address)/32", "dev", "eth0")
            try Self.sh("ip", "-n", namespace, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
            try Self.sh("ip", "-n", namespace, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
            try Self.sh("ip", "route", "add", "\(address)/32", "dev", hostInterface)
            let text = try String(contentsOfFile: "/sys/class/net/\(hostInterface)/ifindex", encoding: .utf8)
            guard let value = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw NetNSError(command: "read ifindex of \(hostInterface)", output: text)
            }
            ifindex = value
        } catch {
            _ = try? Self.sh("ip", "netns", "del", namespace)
            throw error
        }
    }

    deinit {
        prober?.close()
        for server in servers { server.close() }
        _ = try? Self.sh("ip", "netns", "del", namespace)
        _ = try? Self.sh("ip", "link", "del", hostInterface)
    }

    /// The host's source address towards this pod (what the pod sees as the node's address).
    public func hostAddress() throws -> String {
        let route = try Self.sh("ip", "-o", "route", "get", address)
        let words = route.split(separator: " ")
        guard let index = words.firstIndex(of: "src"), index + 1 < words.count else {
            throw NetNSError(command: "ip route get \(address)", output: route)
        }
        return String(words[index + 1])
    }

    /// Starts an echo server in the pod on the given ports; returns once it listens.
    public func serve(tcp: [UInt16] = [], udp: [UInt16] = []) throws {
        let channel = try LineChannel(arguments: [
            "ip", "netns", "exec", namespace, "python3", "-c", PodProbeScripts.server,
            tcp.map(String.init).joined(separator: ","), udp.map(String.init).joined(separator: ","),
        ])
        guard channel.readLine() == "ready" else {
            throw NetNSError(command: "echo server in \(namespace)", output: "")
        }
        lock.withLock { servers.append(channel) }
    }

    /// One TCP connect + echo from this pod; false when the handshake did not complete within `timeout` seconds.
    public func canConnect(to host: String, port: UInt16, timeout: Double = 1) throws -> Bool {
        try ask("tcp \(host) \(port) \(timeout)").hasPrefix("ok")
    }

    /// One UDP datagram + echo from this pod.
    public func canExchangeDatagram(with host: String, port: UInt16, timeout: Double = 2) throws -> Bool {
        try ask("udp \(host) \(port) \(timeout)").hasPrefix("ok")
    }

    /// One ICMP echo from this pod.
    public func canPing(_ host: String, timeout: Int = 2) -> Bool {
        (try? Self.sh("ip", "netns", "exec", namespace, "ping", "-c1", "-W\(timeout)", host)) != nil
    }

    /// Opens a TCP connection that stays open; returns its id for `exchange(on:)`, nil if it could not connect.
    public func openConnection(to host: String, port: UInt16) throws -> Int? {
        let reply = try ask("open \(host) \(port)")
        guard reply.hasPrefix("ok ") else { return nil }
        return Int(reply.dropFirst(3))
    }

    /// One echo round trip on a connection from `openConnection`.
    public func exchange(on connection: Int, timeout: Double = 5) throws -> Bool {
        try ask("send \(connection) \(timeout)").hasPrefix("ok")
    }

    private func ask(_ command: String) throws -> String {
        try lock.withLock {
            if prober == nil {
                let channel = try LineChannel(arguments: [
                    "ip", "netns", "exec", namespace, "python3", "-c", PodProbeScripts.prober,
                ])
                prober = channel
            }
            prober!.writeLine(command)
            guard let line = prober!.readLine() else { throw NetNSError(command: command, output: "prober exited") }
            return line
        }
    }

    /// Runs a command, returning its output; throws with the output when it fails.
    @discardableResult
    public static func sh(_ arguments: String...) throws -> String { try sh(arguments) }

    @discardableResult
    public static func sh(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw NetNSError(command: arguments.joined(separator: " "), output: output)
        }
        return output
    }
}

/// A command that failed, with what it printed.
public struct NetNSError: Error, CustomStringConvertible {
    public var command: String
    public var output: String
    public var description: String { "\(command) failed: \(output)" }

    public init(command: String, output: String) {
        self.command = command
        self.output = output
    }
}

/// A child process spoken to line by line over stdin/stdout.
final class LineChannel: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    func writeLine(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    func close() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
