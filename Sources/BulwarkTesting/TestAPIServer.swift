import Foundation
import Synchronization

/// A running test API server (`hack/testapi`, Python standard library): real HTTPS with a per-run PKI, Kubernetes
/// semantics, and control hooks for fault injection.
///
/// Usage:
/// ```swift
/// let server = try await TestAPIServer.start()
/// defer { server.close() }
/// let kubeconfig = try server.writeKubeconfig(auth: .clientCertificate)
/// ```
/// The Python process exits when this object closes or when the test process dies (its stdin closes).
///
/// - Important: Starting the server and its control commands wait for the Python process on a thread of their own,
///   never on Swift's cooperative pool. The pool has one thread per core; a test that blocks one (a Python start
///   takes seconds on a loaded machine) stalls every other task of the test process, including the client code
///   under test, and a watch that waits for its reconnect measures the test runner instead of the client.
public final class TestAPIServer: @unchecked Sendable {  // Process is not Sendable; it is only started and stopped.
    /// `https://127.0.0.1:PORT`.
    public let url: String
    public let port: Int
    /// A bearer token the server accepts, for user `admin`.
    public let token = "admin-token"
    /// The cluster CA, the client certificate (CN kubernetes-admin, O system:masters, PKCS#1 key like kind) and an
    /// unrelated CA for "wrong CA" tests, all PEM.
    public let certificateAuthority: Data
    public let clientCertificate: Data
    public let clientKey: Data
    public let otherCertificateAuthority: Data
    /// A scratch folder owned by this server (kubeconfigs, token files); removed on close.
    public let directory: String

    private let process: Process
    private let channel: Mutex<ControlChannel>

    private static let counter = Atomic<Int>(0)
    private static let pki = Mutex<String?>(nil)

    /// Starts a server on a free port and waits (off the cooperative pool) until it serves.
    public static func start() async throws -> TestAPIServer {
        try await offPool { try TestAPIServer() }
    }

    private init() throws {
        let pki = try Self.sharedPKI()
        let serial = Self.counter.add(1, ordering: .relaxed).newValue
        directory = NSTemporaryDirectory() + "bulwark-testapi-\(getpid())-\(serial)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "testapi", "--dir", pki, "--token", "admin-token=admin"]
        process.currentDirectoryURL = Self.packageDirectory
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var control = ControlChannel(input: input.fileHandleForWriting, output: output.fileHandleForReading)
        let ready = try control.readReply()
        guard let port = ready["port"] as? Int else {
            throw TestAPIServerError(message: "test API server did not report a port: \(ready)")
        }
        self.port = port
        url = "https://127.0.0.1:\(port)"
        channel = Mutex(control)
        func read(_ name: String) throws -> Data {
            guard let data = FileManager.default.contents(atPath: "\(pki)/\(name)") else {
                throw TestAPIServerError(message: "missing \(pki)/\(name)")
            }
            return data
        }
        certificateAuthority = try read("ca.crt")
        clientCertificate = try read("client.crt")
        clientKey = try read("client.key")
        otherCertificateAuthority = try read("other-ca.crt")
    }

    deinit {
        close()
    }

    /// Stops the server process and removes its scratch folder. Does not wait for the process to exit (it stops
    /// serving at once on SIGTERM; Foundation reaps it), so a `defer { server.close() }` never blocks the pool.
    public func close() {
        channel.withLock { $0.close() }
        if process.isRunning {
            process.terminate()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Sends one control command (see `hack/testapi/testapi/__main__.py`) and returns its reply; the round trip
    /// to the Python process runs off the cooperative pool.
    @discardableResult
    public func command(_ name: String, _ arguments: [String: Any] = [:]) async throws -> [String: Any] {
        var message: [String: Any] = arguments
        message["cmd"] = name
        let request = try JSONSerialization.data(withJSONObject: message)
        let line = try await Self.offPool {
            try self.channel.withLock { channel in
                try channel.send(request)
                return try channel.readLine()
            }
        }
        guard let reply = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw TestAPIServerError(message: "unreadable reply from the test API server")
        }
        guard reply["ok"] as? Bool == true else {
            throw TestAPIServerError(message: "test API server command \(name) failed: \(reply["error"] ?? reply)")
        }
        return reply
    }

    /// Runs blocking work (waiting for the Python process) on a thread of its own and resumes the caller with its
    /// result, so the cooperative pool stays free for the code under test.
    private static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "testapi-control"
            thread.start()
        }
    }

    /// The repository's `hack/testapi` folder, found from this source file's location.
    private static var packageDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("hack/testapi")
    }

    /// One PKI per test process: generating RSA keys for every server would cost seconds.
    private static func sharedPKI() throws -> String {
        try pki.withLock { path in
            if let path { return path }
            let directory = NSTemporaryDirectory() + "bulwark-testapi-pki-\(getpid())"
            let generate = Process()
            generate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            generate.arguments = ["python3", "-c", "import sys; from testapi import certs; certs.ensure(sys.argv[1])",
                                  directory]
            generate.currentDirectoryURL = packageDirectory
            generate.environment = ["PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"]
            try generate.run()
            generate.waitUntilExit()
            guard generate.terminationStatus == 0 else {
                throw TestAPIServerError(message: "generating the test PKI failed")
            }
            path = directory
            atexit { TestAPIServer.removeSharedPKI() }
            return directory
        }
    }

    private static func removeSharedPKI() {
        if let path = pki.withLock({ $0 }) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

public struct TestAPIServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// JSON lines over the server's stdin/stdout.
private struct ControlChannel: ~Copyable {
    let input: FileHandle
    let output: FileHandle
    var buffer = Data()
    var closed = false

    init(input: FileHandle, output: FileHandle) {
        self.input = input
        self.output = output
    }

    /// Writes one JSON message (without its newline).
    func send(_ message: Data) throws {
        var data = message
        data.append(UInt8(ascii: "\n"))
        try input.write(contentsOf: data)
    }

    mutating func readReply() throws -> [String: Any] {
        guard let reply = try JSONSerialization.jsonObject(with: try readLine()) as? [String: Any] else {
            throw TestAPIServerError(message: "unreadable reply from the test API server")
        }
        return reply
    }

    /// The next line of the server's stdout, without its newline (blocks until it arrives).
    mutating func readLine() throws -> Data {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffer[buffer.startIndex..<newline])
                buffer = Data(buffer[(newline + 1)...])
                return line
            }
            let chunk = output.availableData
            guard !chunk.isEmpty else { throw TestAPIServerError(message: "test API server exited") }
            buffer.append(chunk)
        }
    }

    mutating func close() {
        guard !closed else { return }
        closed = true
        try? input.close()
    }
}
