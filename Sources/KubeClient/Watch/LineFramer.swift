import Foundation

/// Splits a watch response into newline-delimited JSON events as bytes arrive.
///
/// Chunk boundaries are arbitrary: one chunk may hold many events, one event may span many chunks (a 5 MB object
/// arrives in hundreds). Complete lines found inside a chunk are handed out without copying; only a partial tail
/// is buffered until its newline arrives.
struct LineFramer {
    struct LineTooLong: Error, CustomStringConvertible {
        var limit: Int
        var description: String { "watch event larger than \(limit) bytes" }
    }

    let maxLineLength: Int
    private var partial: [UInt8] = []

    init(maxLineLength: Int = 64 << 20) {
        self.maxLineLength = maxLineLength
    }

    /// Number of bytes waiting for the end of their line.
    var bufferedCount: Int { partial.count }

    /// Feeds `bytes`, calling `line` for every complete non-empty line (without its `\n` or `\r\n`).
    mutating func push(
        _ bytes: UnsafeRawBufferPointer, line: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            let rest = bytes.count - start
            guard let found = memchr(base + start, 0x0A, rest) else {
                guard partial.count + rest <= maxLineLength else { throw LineTooLong(limit: maxLineLength) }
                partial.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: rest))
                return
            }
            let end = base.distance(to: UnsafeRawPointer(found))
            let piece = UnsafeRawBufferPointer(start: base + start, count: end - start)
            if partial.isEmpty {
                try emit(piece, line)
            } else {
                guard partial.count + piece.count <= maxLineLength else { throw LineTooLong(limit: maxLineLength) }
                partial.append(contentsOf: piece)
                let whole = partial
                partial.removeAll(keepingCapacity: partial.count < 1 << 20)
                try whole.withUnsafeBytes { try emit($0, line) }
            }
            start = end + 1
        }
    }

    private func emit(_ piece: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer) throws -> Void) throws {
        var count = piece.count
        if count > 0 && piece[count - 1] == 0x0D { count -= 1 }
        guard count > 0 else { return }
        try line(UnsafeRawBufferPointer(rebasing: piece[0..<count]))
    }
}
