import Foundation

/// A `Decodable` reader that works on the JSON bytes directly: containers index their keys' offsets, and values
/// nobody asks for are skipped by scanning, never parsed into a tree. Used for every API response and watch event.
///
/// Semantics match `JSONDecoder`'s defaults for what our models use (strings, numbers, booleans, null, nested
/// containers, `Data` as base64); numbers must fit the requested type exactly.
struct SkippingJSONDecoder {
    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "empty JSON"))
            }
            return try decode(type, from: UnsafeRawBufferPointer(start: base, count: raw.count))
        }
    }

    func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "empty JSON"))
        }
        let scanner = JSONScanner(base: base, count: bytes.count)
        let decoder = ValueDecoder(scanner: scanner, offset: scanner.skipWhitespace(0), codingPath: [])
        do {
            return try decoder.decodeValue(T.self)
        } catch let error as JSONScanner.Malformed {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: error.description))
        }
    }
}

/// The decoder for one JSON value at `offset`.
private final class ValueDecoder: Decoder {
    let scanner: JSONScanner
    let offset: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(scanner: JSONScanner, offset: Int, codingPath: [any CodingKey]) {
        self.scanner = scanner
        self.offset = offset
        self.codingPath = codingPath
    }

    var isNull: Bool { scanner.byte(offset) == 0x6E }

    func mismatch(_ type: Any.Type, _ expected: String) -> DecodingError {
        let found: String
        switch scanner.byte(offset) {
        case 0x7B: found = "an object"
        case 0x5B: found = "an array"
        case 0x22: found = "a string"
        case 0x6E: found = "null"
        case 0x74, 0x66: found = "a boolean"
        default: found = "a number"
        }
        let context = DecodingError.Context(
            codingPath: codingPath, debugDescription: "expected \(expected), found \(found)")
        return found == "null" ? .valueNotFound(type, context) : .typeMismatch(type, context)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard scanner.byte(offset) == 0x7B else { throw mismatch([String: Any].self, "an object") }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, fields: try scanner.objectFields(at: offset)))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard scanner.byte(offset) == 0x5B else { throw mismatch([Any].self, "an array") }
        return UnkeyedContainer(decoder: self, elements: try scanner.arrayElements(at: offset))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(decoder: self)
    }

    func child(at offset: Int, key: any CodingKey) -> ValueDecoder {
        ValueDecoder(scanner: scanner, offset: offset, codingPath: codingPath + [key])
    }

    // MARK: Values

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type: return try decodeString() as! T
        case is Bool.Type: return try decodeBool() as! T
        case is Int.Type: return try decodeInteger(Int.self) as! T
        case is Int64.Type: return try decodeInteger(Int64.self) as! T
        case is Int32.Type: return try decodeInteger(Int32.self) as! T
        case is Double.Type: return try decodeDouble() as! T
        case is Data.Type:
            guard let data = Data(base64Encoded: try decodeString()) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "invalid base64"))
            }
            return data as! T
        default:
            return try T(from: self)
        }
    }

    func decodeString() throws -> String {
        guard scanner.byte(offset) == 0x22 else { throw mismatch(String.self, "a string") }
        return try scanner.string(at: offset)
    }

    func decodeBool() throws -> Bool {
        switch scanner.byte(offset) {
        case 0x74 where try scanner.endOfValue(offset) == offset + 4: return true
        case 0x66 where try scanner.endOfValue(offset) == offset + 5: return false
        default: throw mismatch(Bool.self, "a boolean")
        }
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let first = scanner.byte(offset)
        guard first == 0x2D || (first >= 0x30 && first <= 0x39) else { throw mismatch(type, "a number") }
        if let value = try scanner.integer(at: offset), let exact = I(exactly: value) { return exact }
        let text = try scanner.numberText(at: offset)
        if let double = Double(text), let exact = I(exactly: double) { return exact }
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath,
                                                debugDescription: "number \(text) does not fit \(I.self)"))
    }

    func decodeDouble() throws -> Double {
        let first = scanner.byte(offset)
        guard first == 0x2D || (first >= 0x30 && first <= 0x39) else { throw mismatch(Double.self, "a number") }
        let text = try scanner.numberText(at: offset)
        guard let value = Double(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "invalid number \(text)"))
        }
        return value
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let fields: [(key: String, offset: Int)]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { fields.compactMap { Key(stringValue: $0.key) } }

    func offset(_ key: Key) -> Int? {
        let name = key.stringValue
        return fields.first { $0.key == name }?.offset
    }

    func child(_ key: Key) throws -> ValueDecoder {
        guard let offset = offset(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key"))
        }
        return decoder.child(at: offset, key: key)
    }

    func contains(_ key: Key) -> Bool { offset(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).isNull }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try child(key).decodeValue(type)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decodeBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decodeString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decodeDouble() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try child(key).decodeDouble()) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decodeInteger(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decodeInteger(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decodeInteger(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decodeInteger(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decodeInteger(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decodeInteger(type) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let offset = offset(key) else { return nil }
        let child = decoder.child(at: offset, key: key)
        return child.isNull ? nil : try child.decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "\(intValue ?? 0)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [Int]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(decoder: ValueDecoder, elements: [Int]) {
        self.decoder = decoder
        self.elements = elements
    }

    mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array ended"))
        }
        defer { currentIndex += 1 }
        return decoder.child(at: elements[currentIndex], key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, decoder.scanner.byte(elements[currentIndex]) == 0x6E else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decodeBool() }
    mutating func decode(_ type: String.Type) throws -> String { try next().decodeString() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decodeDouble() }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try next().decodeDouble()) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decodeInteger(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decodeInteger(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeDouble() }
    func decode(_ type: Float.Type) throws -> Float { Float(try decoder.decodeDouble()) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
