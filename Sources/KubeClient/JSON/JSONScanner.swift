import Foundation

/// Byte-level JSON scanning for `SkippingJSONDecoder`: find where values start and end, skip unwanted values
/// without materialising them, and read strings and numbers.
///
/// Why: a Pod served by the API server is ~4.5 KB of JSON of which the agent needs a few hundred bytes
/// (`managedFields` alone is ~40 %). Building a full tree first, as Foundation's decoder does, spends most of the
/// watch-decoding time on fields that are thrown away.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let count: Int

    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var problem: String
        var description: String { "malformed JSON at byte \(offset): \(problem)" }
    }

    @inline(__always) func byte(_ index: Int) -> UInt8 {
        index < count ? base[index] : 0
    }

    @inline(__always) func skipWhitespace(_ index: Int) -> Int {
        var index = index
        while index < count {
            switch base[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return index
            }
        }
        return index
    }

    /// Index just past the string starting at `index` (which holds the opening quote).
    func endOfString(_ index: Int) throws -> Int {
        var search = index + 1
        while search < count {
            guard let found = memchr(base + search, 0x22, count - search) else { break }
            let quote = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
            var backslashes = 0
            while quote - 1 - backslashes > index && base[quote - 1 - backslashes] == 0x5C { backslashes += 1 }
            if backslashes % 2 == 0 { return quote + 1 }
            search = quote + 1
        }
        throw Malformed(offset: index, problem: "unterminated string")
    }

    /// Index just past the value starting at `index` (whitespace already skipped).
    func endOfValue(_ index: Int) throws -> Int {
        switch byte(index) {
        case 0x22:
            return try endOfString(index)
        case 0x7B, 0x5B:
            var depth = 0
            var position = index
            while position < count {
                switch base[position] {
                case 0x22:
                    position = try endOfString(position)
                    continue
                case 0x7B, 0x5B:
                    depth += 1
                case 0x7D, 0x5D:
                    depth -= 1
                    if depth == 0 { return position + 1 }
                default:
                    break
                }
                position += 1
            }
            throw Malformed(offset: index, problem: "unterminated \(byte(index) == 0x7B ? "object" : "array")")
        default:
            var position = index
            while position < count {
                switch base[position] {
                case 0x2C, 0x7D, 0x5D, 0x20, 0x0A, 0x0D, 0x09: return position
                default: position += 1
                }
            }
            guard position > index else { throw Malformed(offset: index, problem: "missing value") }
            return position
        }
    }

    /// The string starting at `index`, unescaped.
    func string(at index: Int) throws -> String {
        let end = try endOfString(index)
        let start = index + 1
        let length = end - 1 - start
        if memchr(base + start, 0x5C, length) == nil {
            return String(decoding: UnsafeBufferPointer(start: base + start, count: length), as: UTF8.self)
        }
        return try unescape(from: start, to: end - 1)
    }

    private func unescape(from start: Int, to end: Int) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(end - start)
        var index = start
        while index < end {
            let current = base[index]
            guard current == 0x5C else {
                bytes.append(current)
                index += 1
                continue
            }
            index += 1
            switch byte(index) {
            case 0x22: bytes.append(0x22)
            case 0x5C: bytes.append(0x5C)
            case 0x2F: bytes.append(0x2F)
            case 0x62: bytes.append(0x08)
            case 0x66: bytes.append(0x0C)
            case 0x6E: bytes.append(0x0A)
            case 0x72: bytes.append(0x0D)
            case 0x74: bytes.append(0x09)
            case 0x75:
                var scalar = try hex4(index + 1)
                index += 4
                if (0xD800..<0xDC00).contains(scalar), byte(index + 1) == 0x5C, byte(index + 2) == 0x75 {
                    let low = try hex4(index + 3)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                bytes.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
            default:
                throw Malformed(offset: index, problem: "invalid escape")
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func hex4(_ index: Int) throws -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 {
            let digit = byte(index + offset)
            let nibble: UInt8
            switch digit {
            case 0x30...0x39: nibble = digit - 0x30
            case 0x61...0x66: nibble = digit - 0x61 + 10
            case 0x41...0x46: nibble = digit - 0x41 + 10
            default: throw Malformed(offset: index + offset, problem: "invalid \\u escape")
            }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }

    /// The number token starting at `index`, as text (for error messages and floating-point parsing).
    func numberText(at index: Int) throws -> Substring {
        let end = try endOfValue(index)
        return Substring(String(decoding: UnsafeBufferPointer(start: base + index, count: end - index), as: UTF8.self))
    }

    /// An integer token, exactly; nil when the token is not a plain integer in range.
    func integer(at index: Int) throws -> Int64? {
        let end = try endOfValue(index)
        var position = index
        let negative = byte(position) == 0x2D
        if negative { position += 1 }
        guard position < end else { return nil }
        var value: Int64 = 0
        while position < end {
            let digit = base[position]
            guard digit >= 0x30 && digit <= 0x39 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(digit - 0x30))
            if overflow1 || overflow2 { return nil }
            value = sum
            position += 1
        }
        return negative ? -value : value
    }

    /// Offsets of the keys' values of the object at `index`: `[(key, value offset)]` in document order.
    func objectFields(at index: Int) throws -> [(key: String, offset: Int)] {
        var fields: [(key: String, offset: Int)] = []
        var position = skipWhitespace(index + 1)
        if byte(position) == 0x7D { return fields }
        while true {
            guard byte(position) == 0x22 else { throw Malformed(offset: position, problem: "expected a key") }
            let key = try string(at: position)
            position = skipWhitespace(try endOfString(position))
            guard byte(position) == 0x3A else { throw Malformed(offset: position, problem: "expected ':'") }
            let value = skipWhitespace(position + 1)
            fields.append((key, value))
            position = skipWhitespace(try endOfValue(value))
            switch byte(position) {
            case 0x2C: position = skipWhitespace(position + 1)
            case 0x7D: return fields
            default: throw Malformed(offset: position, problem: "expected ',' or '}'")
            }
        }
    }

    /// Offsets of the elements of the array at `index`.
    func arrayElements(at index: Int) throws -> [Int] {
        var elements: [Int] = []
        var position = skipWhitespace(index + 1)
        if byte(position) == 0x5D { return elements }
        while true {
            elements.append(position)
            position = skipWhitespace(try endOfValue(position))
            switch byte(position) {
            case 0x2C: position = skipWhitespace(position + 1)
            case 0x5D: return elements
            default: throw Malformed(offset: position, problem: "expected ',' or ']'")
            }
        }
    }
}
