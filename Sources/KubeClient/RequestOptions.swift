import Foundation
import KubeModel

/// Filters and paging for list calls.
public struct ListOptions: Sendable, Hashable {
    /// Label selector in the API's syntax: `app=web,tier!=db,env in (a,b)`.
    public var labelSelector: String?
    /// Field selector: `metadata.name=x`, `spec.nodeName=node-1`.
    public var fieldSelector: String?
    /// Page size; the answer carries a `continueToken` when more remain.
    public var limit: Int?
    public var continueToken: String?
    /// `"0"` lets the server answer from its cache; `nil` asks for the latest state.
    public var resourceVersion: String?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil,
        resourceVersion: String? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }

    var query: [(String, String)] {
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        return query
    }
}

/// One page of a list: the items, the collection's resourceVersion (to watch from) and the next page's token.
public struct ObjectList<T: KubeResource>: Decodable, Sendable {
    public var items: [T]
    public var resourceVersion: String
    public var continueToken: String?

    private struct ListMeta: Decodable {
        var resourceVersion: String?
        var `continue`: String?
    }

    private enum CodingKeys: String, CodingKey { case metadata, items }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let meta = try container.decodeIfPresent(ListMeta.self, forKey: .metadata)
        items = try container.decodeIfPresent([T].self, forKey: .items) ?? []
        resourceVersion = meta?.resourceVersion ?? ""
        continueToken = meta?.continue.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Which part of an object a write addresses.
public enum Subresource: String, Sendable {
    /// The `status` subresource: writes change only `.status`; the server ignores everything else.
    case status
}

/// A patch body with its media type.
public struct Patch: Sendable {
    public let contentType: String
    public let body: Data

    /// JSON merge patch (RFC 7386): the value's fields replace the object's, `null` deletes.
    public static func merge(_ value: some Encodable) throws -> Patch {
        Patch(contentType: "application/merge-patch+json", body: try JSONEncoder().encode(value))
    }

    /// JSON merge patch from raw JSON text.
    public static func merge(json: Data) -> Patch {
        Patch(contentType: "application/merge-patch+json", body: json)
    }

    /// JSON patch (RFC 6902): an ordered list of operations, all or nothing.
    public static func json(_ operations: [JSONPatchOperation]) -> Patch {
        var body = Data("[".utf8)
        for (index, operation) in operations.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(operation.encoded)
        }
        body.append(UInt8(ascii: "]"))
        return Patch(contentType: "application/json-patch+json", body: body)
    }
}

/// One RFC 6902 operation; paths are JSON pointers (`/metadata/labels/app`).
public struct JSONPatchOperation: Sendable {
    let encoded: Data

    private init(op: String, path: String, from: String? = nil, value: Data? = nil) throws {
        let encoder = JSONEncoder()
        var text = #"{"op":"\#(op)","path":"# + String(decoding: try encoder.encode(path), as: UTF8.self)
        if let from { text += #","from":"# + String(decoding: try encoder.encode(from), as: UTF8.self) }
        var data = Data(text.utf8)
        if let value {
            data.append(contentsOf: #","value":"#.utf8)
            data.append(value)
        }
        data.append(UInt8(ascii: "}"))
        encoded = data
    }

    public static func add(_ path: String, _ value: some Encodable) throws -> Self {
        try Self(op: "add", path: path, value: JSONEncoder().encode(value))
    }

    public static func replace(_ path: String, _ value: some Encodable) throws -> Self {
        try Self(op: "replace", path: path, value: JSONEncoder().encode(value))
    }

    /// Fails the whole patch unless the value at `path` equals `value` (optimistic concurrency without RVs).
    public static func test(_ path: String, _ value: some Encodable) throws -> Self {
        try Self(op: "test", path: path, value: JSONEncoder().encode(value))
    }

    public static func remove(_ path: String) throws -> Self {
        try Self(op: "remove", path: path)
    }

    public static func move(from: String, to path: String) throws -> Self {
        try Self(op: "move", path: path, from: from)
    }

    public static func copy(from: String, to path: String) throws -> Self {
        try Self(op: "copy", path: path, from: from)
    }
}

/// Encodes a value with `apiVersion` and `kind` in front: the API server needs them in every write body, while our
/// model types keep them static to save memory.
struct TypedBody<Value: Encodable>: Encodable {
    var apiVersion: String
    var kind: String
    var value: Value

    private enum CodingKeys: String, CodingKey { case apiVersion, kind }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(apiVersion, forKey: .apiVersion)
        try container.encode(kind, forKey: .kind)
        try value.encode(to: encoder)
    }
}
