/// Encodes `Encodable` values into a ``JSONValue`` tree (for `-o yaml` / `-o json` and for API request bodies).
///
/// Struct members keep their declaration order; `Dictionary` members are sorted by key so output is stable
/// (Swift dictionaries have no order). `nil` optionals are omitted, as the synthesized code does.
public struct JSONValueEncoder: Sendable {
    /// Sort every object's keys, not only dictionaries' (like `JSONEncoder.OutputFormatting.sortedKeys`).
    public var sortsKeys = false
    /// Passed to `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let primitive = encodePrimitive(value) { return primitive }
        let node = EncodingNode()
        try value.encode(to: TreeEncoder(node: node, codingPath: [], options: self))
        return node.build(sortingKeys: sortsKeys)
    }
}

/// A value under construction; containers may be requested and filled in any order, so nodes are references.
final class EncodingNode {
    enum Child {
        case value(JSONValue)
        case node(EncodingNode)
    }

    enum Kind {
        case unset, single, object, array
    }

    var kind = Kind.unset
    var single = JSONValue.null
    var keys: [String] = []
    var children: [Child] = []
    var isDictionary = false

    func build(sortingKeys: Bool) -> JSONValue {
        switch kind {
        case .unset: return .object(JSONObject())
        case .single: return single
        case .array: return .array(children.map { built($0, sortingKeys) })
        case .object:
            var order = Array(keys.indices)
            if sortingKeys || isDictionary { order.sort { keys[$0] < keys[$1] } }
            var object = JSONObject()
            for index in order { object[keys[index]] = built(children[index], sortingKeys) }
            return .object(object)
        }
    }

    private func built(_ child: Child, _ sortingKeys: Bool) -> JSONValue {
        switch child {
        case .value(let value): value
        case .node(let node): node.build(sortingKeys: sortingKeys)
        }
    }
}

/// The value's tree form when it is a primitive or already a tree; nil when it needs its own `encode(to:)`.
func encodePrimitive<T: Encodable>(_ value: T) -> JSONValue? {
    switch value {
    case let tree as JSONValue: return tree
    case let object as JSONObject: return .object(object)
    case let text as String: return .string(text)
    case let flag as Bool: return .bool(flag)
    case let integer as Int: return .int(Int64(integer))
    case let integer as Int32: return .int(Int64(integer))
    case let integer as Int64: return .int(integer)
    case let integer as UInt16: return .int(Int64(integer))
    case let integer as UInt32: return .int(Int64(integer))
    case let integer as UInt8: return .int(Int64(integer))
    case let integer as Int16: return .int(Int64(integer))
    case let integer as Int8: return .int(Int64(integer))
    case let integer as UInt: return Int64(exactly: integer).map(JSONValue.int) ?? .double(Double(integer))
    case let integer as UInt64: return Int64(exactly: integer).map(JSONValue.int) ?? .double(Double(integer))
    case let number as Double: return .double(number)
    case let number as Float: return .double(Double("\(number)") ?? Double(number))
    default: return nil
    }
}

final class TreeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    let options: JSONValueEncoder

    init(node: EncodingNode, codingPath: [any CodingKey], options: JSONValueEncoder) {
        self.node = node
        self.codingPath = codingPath
        self.options = options
    }

    var userInfo: [CodingUserInfoKey: Any] { options.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.kind != .object {
            node.kind = .object
            node.isDictionary = String(describing: Key.self) == "_DictionaryCodingKey"
        }
        return KeyedEncodingContainer(KeyedTreeEncodingContainer(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.kind = .array
        return UnkeyedTreeEncodingContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    /// Encodes `value` as a child: primitives inline, others through a nested encoder.
    func child<T: Encodable>(_ value: T, key: any CodingKey) throws -> EncodingNode.Child {
        if let primitive = encodePrimitive(value) { return .value(primitive) }
        let child = EncodingNode()
        try value.encode(to: TreeEncoder(node: child, codingPath: codingPath + [key], options: options))
        return .node(child)
    }

    func nested(key: any CodingKey, kind: EncodingNode.Kind) -> TreeEncoder {
        let child = EncodingNode()
        child.kind = kind
        return TreeEncoder(node: child, codingPath: codingPath + [key], options: options)
    }
}

extension TreeEncoder: SingleValueEncodingContainer {
    func encodeNil() { set(.null) }
    func encode(_ value: Bool) { set(.bool(value)) }
    func encode(_ value: String) { set(.string(value)) }
    func encode<T: Encodable>(_ value: T) throws {
        if let primitive = encodePrimitive(value) { return set(primitive) }
        try value.encode(to: self)
    }

    private func set(_ value: JSONValue) {
        node.kind = .single
        node.single = value
    }
}

struct KeyedTreeEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func append(_ key: Key, _ child: EncodingNode.Child) {
        encoder.node.keys.append(key.stringValue)
        encoder.node.children.append(child)
    }

    mutating func encodeNil(forKey key: Key) { append(key, .value(.null)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        append(key, try encoder.child(value, key: key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = encoder.nested(key: key, kind: .unset)
        append(key, .node(nested.node))
        return nested.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = encoder.nested(key: key, kind: .array)
        append(key, .node(nested.node))
        return nested.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let key = PathCodingKey(stringValue: "super")
        let nested = encoder.nested(key: key, kind: .unset)
        encoder.node.keys.append(key.stringValue)
        encoder.node.children.append(.node(nested.node))
        return nested
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let nested = encoder.nested(key: key, kind: .unset)
        append(key, .node(nested.node))
        return nested
    }
}

struct UnkeyedTreeEncodingContainer: UnkeyedEncodingContainer {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.node.children.count }

    private var nextKey: PathCodingKey { PathCodingKey(intValue: count) }

    mutating func encodeNil() { encoder.node.children.append(.value(.null)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node.children.append(try encoder.child(value, key: nextKey))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = encoder.nested(key: nextKey, kind: .unset)
        encoder.node.children.append(.node(nested.node))
        return nested.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = encoder.nested(key: nextKey, kind: .array)
        encoder.node.children.append(.node(nested.node))
        return nested.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let nested = encoder.nested(key: nextKey, kind: .unset)
        encoder.node.children.append(.node(nested.node))
        return nested
    }
}
