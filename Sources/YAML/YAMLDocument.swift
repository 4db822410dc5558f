/// One document of a YAML stream: its value and where each of its nodes came from.
///
/// Positions let later stages (decoding, policy validation) report `policy.yaml:14:9` for a field path instead of
/// only `spec.ingress[0].ports[0].port`.
public struct YAMLDocument: Sendable {
    public var value: JSONValue
    /// The file name given to the parser, if any.
    public var file: String?
    /// Where the document's content starts.
    public var start: SourcePosition

    let positions: PositionTable
    let rootNode: Int

    /// Where the node at `path` starts; for an object member, where its key starts (the line an editor should
    /// jump to). `nil` when the path does not exist in ``value``, or after ``value`` was changed along the path.
    public func position(of path: FieldPath) -> SourcePosition? {
        var node = rootNode
        var current = value
        for (step, component) in path.components.enumerated() {
            let mark = positions.nodes[node]
            let edge: PositionTable.Edge
            switch (component, current) {
            case (.key(let key), .object(let object)):
                guard let position = object.index(forKey: key), position < mark.count else { return nil }
                edge = positions.edges[mark.firstEdge + position]
                if step == path.components.count - 1 { return edge.keyPosition }
                current = object.entries[position].value
            case (.index(let index), .array(let array)):
                guard array.indices.contains(index), index < mark.count else { return nil }
                edge = positions.edges[mark.firstEdge + index]
                current = array[index]
            default:
                return nil
            }
            node = edge.node
        }
        return positions.nodes[node].position
    }

    /// Decodes the document as `T`; a failure becomes a located error such as
    /// `policy.yaml:14:9: spec.ingress[0].ports[0].port: expected integer, found string "http"`.
    public func decode<T: Decodable>(_ type: T.Type, using decoder: JSONValueDecoder = JSONValueDecoder())
        throws(YAMLError) -> T
    {
        do {
            return try decoder.decode(type, from: value)
        } catch {
            throw self.error(at: error.path, error.message)
        }
    }

    /// A located error about this document, for messages like `policy.yaml:14:9: spec.ports[0].port: …`.
    /// Points at the node itself, or at its nearest existing ancestor when the node is missing.
    public func error(at path: FieldPath, _ message: String) -> YAMLError {
        let text = path.isRoot ? message : "\(path): \(message)"
        var components = path.components[...]
        while !components.isEmpty {
            if let position = position(of: FieldPath(Array(components))) {
                return YAMLError(file: file, position: position, message: text)
            }
            components = components.dropLast()
        }
        return YAMLError(file: file, position: start, message: text)
    }
}

/// Source positions of every node built from one stream, shared by its documents.
///
/// Flat arrays rather than a tree of objects: one entry per node plus one edge per collection member, cheap to
/// build while parsing. An alias reuses the anchored node's entry, so aliases cost nothing here.
final class PositionTable: Sendable {
    struct Node: Sendable {
        var line: Int32
        var column: Int32
        /// Members of a collection are `edges[firstEdge ..< firstEdge + count]`, in the value's member order.
        var firstEdge: Int
        var count: Int

        var position: SourcePosition { SourcePosition(line: Int(line), column: Int(column)) }
    }

    struct Edge: Sendable {
        /// The member's key position (for sequence elements, the element's own position).
        var keyLine: Int32
        var keyColumn: Int32
        var node: Int

        var keyPosition: SourcePosition { SourcePosition(line: Int(keyLine), column: Int(keyColumn)) }
    }

    let nodes: [Node]
    let edges: [Edge]

    init(nodes: [Node], edges: [Edge]) {
        self.nodes = nodes
        self.edges = edges
    }
}
