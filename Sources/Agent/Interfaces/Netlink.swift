#if canImport(Glibc)
    import Glibc
#endif

/// One request and its reply on a `NETLINK_ROUTE` socket, and the attribute walk both lookups share. Thin by
/// design: the interface lookups need two questions answered (which interface routes to an address, what kind of
/// link an interface is), not a netlink library.
enum Netlink {
    /// `NETLINK_ROUTE` from <linux/netlink.h>, which Glibc's module does not export.
    private static let netlinkRoute: Int32 = 0
    static let headerSize = 16
    static let errorType: UInt16 = 2
    static let requestFlag: UInt16 = 1

    /// Sends `request` (a complete message, header included) and returns the kernel's first reply message.
    static func roundTrip(_ request: [UInt8], operation: String) throws(InterfaceResolutionError) -> [UInt8] {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkRoute)
        guard fd >= 0 else { throw .system(operation: "netlink socket", errno: errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { throw .system(operation: "\(operation): netlink send", errno: errno) }
        var reply = [UInt8](repeating: 0, count: 32 * 1024)
        let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= headerSize else {
            throw .system(operation: "\(operation): netlink recv", errno: count < 0 ? errno : EIO)
        }
        let message = Array(reply[0..<count])
        return Array(message.prefix(min(Int(message.readUInt32(at: 0)), message.count)))
    }

    /// A message header for a request of `type` whose payload (after the header) is `payloadSize` bytes.
    static func header(type: UInt16, payloadSize: Int) -> [UInt8] {
        var message: [UInt8] = []
        message.append(littleEndian: UInt32(headerSize + payloadSize))
        message.append(littleEndian: type)
        message.append(littleEndian: requestFlag)
        message.append(littleEndian: UInt32(1))  // sequence
        message.append(littleEndian: UInt32(0))  // port id: the kernel
        return message
    }

    /// The kernel's errno from an error reply (0 is an acknowledgement), or nil when `message` is not an error.
    static func errorCode(of message: [UInt8]) -> Int32? {
        guard message.readUInt16(at: 4) == errorType, message.count >= headerSize + 4 else { return nil }
        return -Int32(bitPattern: message.readUInt32(at: headerSize))
    }

    /// Calls `body(type, valueRange)` for each attribute in `bytes[range]` (type without the nested/byte-order flags).
    static func forEachAttribute(in bytes: [UInt8], _ range: Range<Int>, _ body: (UInt16, Range<Int>) -> Void) {
        var offset = range.lowerBound
        while offset + 4 <= range.upperBound {
            let length = Int(bytes.readUInt16(at: offset))
            guard length >= 4, offset + length <= range.upperBound else { return }
            body(bytes.readUInt16(at: offset + 2) & 0x3FFF, (offset + 4)..<(offset + length))
            offset += (length + 3) & ~3
        }
    }
}

extension [UInt8] {
    mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func readUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    func readUInt32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[offset + $1]) << (8 * UInt32($1)) }
    }
}
