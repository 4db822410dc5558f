/// Why a value tree could not become a typed value, and where: `spec.ingress[0].ports[0].port: expected integer,
/// found string "http"`.
///
/// Pair it with ``YAMLDocument/position(of:)`` to point at the line in the file.
public struct DecodingFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: FieldPath
    public var message: String

    public init(path: FieldPath, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isRoot ? message : "\(path): \(message)" }
}

/// Decodes `Decodable` types from a ``JSONValue`` tree, the way Foundation's `JSONDecoder` decodes JSON text.
///
/// - Missing keys and `null` decode as `nil` for optionals; unknown keys are ignored.
/// - Integers come from `.int` (or a `.double` holding an exact integer) and must fit the target type.
/// - `Double`/`Float` come from `.int` or `.double`. `String` only from `.string`: `port: "80"` is not an integer
///   and `name: 80` is not a string, so typos in manifests are reported instead of silently converted.
/// - `JSONValue` and `JSONObject` fields receive the subtree as is (for free-form parts of a spec).
public struct JSONValueDecoder: Sendable {
    /// Passed to `Decoder.userInfo` for types that need decoding context.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(DecodingFailure) -> T {
        do {
            return try TreeDecoder(value: value, userInfo: userInfo).decodeValue(T.self)
        } catch let failure as DecodingFailure {
            throw failure
        } catch let error as DecodingError {
            throw DecodingFailure(error)
        } catch {
            throw DecodingFailure(path: .root, message: "\(error)")
        }
    }
}

extension DecodingFailure {
    /// Converts errors thrown by hand-written `init(from:)` implementations.
    init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(let type, let context):
            self.init(
                path: FieldPath(codingPath: context.codingPath),
                message: "expected \(type): \(context.debugDescription)")
        case .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(path: FieldPath(codingPath: context.codingPath), message: context.debugDescription)
        case .keyNotFound(let key, let context):
            self.init(path: FieldPath(codingPath: context.codingPath + [key]), message: "required field is missing")
        @unknown default:
            self.init(path: .root, message: "\(error)")
        }
    }
}

extension FieldPath {
    /// The path a `Codable` coding path denotes (integer keys are array indexes).
    public init(codingPath: [any CodingKey]) {
        self.init(codingPath.map { key in key.intValue.map(PathComponent.index) ?? .key(key.stringValue) })
    }
}

/// The `Decoder` for one node. It links to its parent instead of copying paths, so decoding stays cheap for
/// thousands of objects.
final class TreeDecoder: Decoder {
    let value: JSONValue
    private let parent: TreeDecoder?
    private let component: PathComponent?
    let userInfoStorage: [CodingUserInfoKey: any Sendable]

    init(value: JSONValue, userInfo: [CodingUserInfoKey: any Sendable]) {
        self.value = value
        self.parent = nil
        self.component = nil
        self.userInfoStorage = userInfo
    }

    private init(value: JSONValue, parent: TreeDecoder, component: PathComponent) {
        self.value = value
        self.parent = parent
        self.component = component
        self.userInfoStorage = parent.userInfoStorage
    }

    /// Built by walking up the parents, only when an error or a `codingPath` needs it.
    var path: FieldPath {
        var components: [PathComponent] = []
        var node: TreeDecoder? = self
        while let current = node, let component = current.component {
            components.append(component)
            node = current.parent
        }
        return FieldPath(components.reversed())
    }

    var codingPath: [any CodingKey] { path.components.map(PathCodingKey.init) }
    var userInfo: [CodingUserInfoKey: Any] { userInfoStorage }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch("object", value, at: path) }
        return KeyedDecodingContainer(KeyedTreeContainer(decoder: self, object: object))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch("array", value, at: path) }
        return UnkeyedTreeContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func child(_ value: JSONValue, _ component: PathComponent) -> TreeDecoder {
        TreeDecoder(value: value, parent: self, component: component)
    }

    /// Decodes `T` from this node: primitives and trees directly, everything else through `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let primitive = try decodePrimitive(type, from: value, at: path) { return primitive }
        if T.self == JSONValue.self { return value as! T }
        if T.self == JSONObject.self {
            guard case .object(let object) = value else { throw mismatch("object", value, at: path) }
            return object as! T
        }
        return try T(from: self)
    }
}

extension TreeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeBool(value, at: path) }
    func decode(_ type: String.Type) throws -> String { try decodeString(value, at: path) }
    func decode(_ type: Double.Type) throws -> Double { try decodeDouble(value, at: path) }
    func decode(_ type: Float.Type) throws -> Float { Float(try decodeDouble(value, at: path)) }
    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(type, value, at: path) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(type, value, at: path) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(type, value, at: path) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(type, value, at: path) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(type, value, at: path) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(type, value, at: path) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(type, value, at: path) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(type, value, at: path) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(type, value, at: path) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(type, value, at: path) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}

struct PathCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }

    init(_ component: PathComponent) {
        switch component {
        case .key(let key): self.init(stringValue: key)
        case .index(let index): self.init(intValue: index)
        }
    }
}

// MARK: - Primitive conversions shared by all containers

func mismatch(_ expected: String, _ value: JSONValue, at path: @autoclosure () -> FieldPath) -> DecodingFailure {
    var found = value.kindName
    switch value {
    case .string(let text): found += " " + JSON.emit(.string(text.count > 40 ? String(text.prefix(40)) + "…" : text))
    case .int, .double, .bool: found += " \(value)"
    default: break
    }
    return DecodingFailure(path: path(), message: "expected \(expected), found \(found)")
}

func decodeBool(_ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(DecodingFailure) -> Bool {
    guard case .bool(let flag) = value else { throw mismatch("boolean", value, at: path()) }
    return flag
}

func decodeString(_ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(DecodingFailure) -> String {
    guard case .string(let text) = value else { throw mismatch("string", value, at: path()) }
    return text
}

func decodeDouble(_ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(DecodingFailure) -> Double {
    switch value {
    case .int(let integer): return Double(integer)
    case .double(let number): return number
    default: throw mismatch("number", value, at: path())
    }
}

func decodeInteger<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, at path: @autoclosure () -> FieldPath)
    throws(DecodingFailure)
    -> T
{
    let integer: Int64
    switch value {
    case .int(let exact): integer = exact
    case .double(let number):
        guard let exact = Int64(exactly: number) else { throw mismatch("integer", value, at: path()) }
        integer = exact
    default: throw mismatch("integer", value, at: path())
    }
    guard let converted = T(exactly: integer) else {
        throw DecodingFailure(path: path(), message: "\(integer) is out of range for \(T.self) (\(T.min)...\(T.max))")
    }
    return converted
}

/// The primitive types decoded without a nested `Decoder`; nil when `T` is not one of them.
/// Metatype comparisons, not casts: this runs for every decoded field.
func decodePrimitive<T>(_ type: T.Type, from value: JSONValue, at path: @autoclosure () -> FieldPath)
    throws(DecodingFailure) -> T?
{
    if T.self == String.self { return try decodeString(value, at: path()) as? T }
    if T.self == Int.self { return try decodeInteger(Int.self, value, at: path()) as? T }
    if T.self == Bool.self { return try decodeBool(value, at: path()) as? T }
    if T.self == Int32.self { return try decodeInteger(Int32.self, value, at: path()) as? T }
    if T.self == Int64.self { return try decodeInteger(Int64.self, value, at: path()) as? T }
    if T.self == Double.self { return try decodeDouble(value, at: path()) as? T }
    if T.self == UInt16.self { return try decodeInteger(UInt16.self, value, at: path()) as? T }
    if T.self == UInt32.self { return try decodeInteger(UInt32.self, value, at: path()) as? T }
    if T.self == UInt8.self { return try decodeInteger(UInt8.self, value, at: path()) as? T }
    if T.self == UInt64.self { return try decodeInteger(UInt64.self, value, at: path()) as? T }
    if T.self == UInt.self { return try decodeInteger(UInt.self, value, at: path()) as? T }
    if T.self == Int16.self { return try decodeInteger(Int16.self, value, at: path()) as? T }
    if T.self == Int8.self { return try decodeInteger(Int8.self, value, at: path()) as? T }
    if T.self == Float.self { return Float(try decodeDouble(value, at: path())) as? T }
    return nil
}
