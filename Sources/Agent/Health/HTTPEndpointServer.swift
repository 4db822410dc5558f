import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 server for the agent's `/healthz`, `/readyz` and `/metrics` endpoints.
///
/// Why not SwiftNIO: three GET endpoints scraped every few seconds do not justify the build time of a full
/// networking stack on every CI run. Each connection is read, answered once and closed (`Connection: close`),
/// on one dedicated thread, so a slow client can delay a scrape but never the reconcile loop.
public final class HTTPEndpointServer: Sendable {
    /// A response to a GET request.
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]

        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.init(status: status, contentType: contentType, body: Array(body.utf8))
        }

        public init(status: Int, contentType: String, body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public typealias Handler = @Sendable (_ path: String) -> Response

    private let socket: Int32
    private let handler: Handler
    private let stopped = Mutex(false)
    /// The bound port (useful when binding port 0 in tests).
    public let port: UInt16

    /// Binds and listens on `address` (`HOST:PORT`, IPv4 or `[IPv6]:PORT`; `:PORT` means all IPv4 addresses).
    /// - Throws: `HTTPEndpointServer.Error` naming the address and errno when binding fails.
    public init(address: String, handler: @escaping Handler) throws {
        let (host, port) = try Self.split(address)
        self.handler = handler
        let isV6 = host.contains(":")
        let fd = Glibc.socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Error(address: address, operation: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        do {
            self.port = try Self.bind(fd, host: host, port: port, isV6: isV6, address: address)
        } catch {
            close(fd)
            throw error
        }
        guard listen(fd, 64) == 0 else {
            let code = errno
            close(fd)
            throw Error(address: address, operation: "listen", errno: code)
        }
        self.socket = fd
    }

    /// Serves requests on a dedicated thread until `stop()`.
    public func start() {
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "bulwark-http"
        thread.start()
    }

    /// Stops accepting connections and closes the listening socket.
    public func stop() {
        let wasStopped = stopped.withLock { value in
            defer { value = true }
            return value
        }
        guard !wasStopped else { return }
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    deinit { stop() }

    private func acceptLoop() {
        while !stopped.withLock({ $0 }) {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            serve(client)
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let requestLine = Self.readRequestHead(client) else { return }
        let parts = requestLine.split(separator: " ")
        let response: Response
        if parts.count < 2 {
            response = Response(status: 400, body: "bad request\n")
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            response = Response(status: 405, body: "only GET is supported\n")
        } else {
            let target = parts[1]
            response = handler(String(target.split(separator: "?", maxSplits: 1).first ?? target))
        }
        let head =
            "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
            + "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
            + "Connection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if parts.first != "HEAD" { bytes += response.body }
        Self.writeAll(client, bytes)
    }

    /// Reads until the end of the request head (`\r\n\r\n`) and returns its first line.
    private static func readRequestHead(_ client: Int32) -> String? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while buffer.count < 16 * 1024 {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            buffer += chunk[0..<count]
            if buffer.count >= 4, buffer.suffix(4).elementsEqual([13, 10, 13, 10]) { break }
        }
        guard let end = buffer.firstIndex(of: 13) ?? buffer.firstIndex(of: 10) else { return nil }
        return String(decoding: buffer[..<end], as: UTF8.self)
    }

    private static func writeAll(_ client: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    private static func bind(_ fd: Int32, host: String, port: UInt16, isV6: Bool, address: String) throws -> UInt16 {
        if isV6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &addr.sin6_addr) == 1 else {
                throw Error(address: address, operation: "parse address", errno: EINVAL)
            }
            var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let result = withUnsafeMutablePointer(to: &addr) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    Glibc.bind(fd, generic, length) == 0 ? getsockname(fd, generic, &length) : -1
                }
            }
            guard result == 0 else { throw Error(address: address, operation: "bind", errno: errno) }
            return UInt16(bigEndian: addr.sin6_port)
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host.isEmpty ? "0.0.0.0" : host, &addr.sin_addr) == 1 else {
            throw Error(address: address, operation: "parse address", errno: EINVAL)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &addr) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                Glibc.bind(fd, generic, length) == 0 ? getsockname(fd, generic, &length) : -1
            }
        }
        guard result == 0 else { throw Error(address: address, operation: "bind", errno: errno) }
        return UInt16(bigEndian: addr.sin_port)
    }

    private static func split(_ address: String) throws -> (host: String, port: UInt16) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw Error(address: address, operation: "parse address (want HOST:PORT)", errno: EINVAL)
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// Binding or listening failed.
    public struct Error: Swift.Error, CustomStringConvertible {
        public var address: String
        public var operation: String
        public var errno: Int32

        public var description: String { "\(operation) \(address): \(String(cString: strerror(errno)))" }
    }
}
