/// Builds value trees from parser events: typing scalars, resolving anchors, aliases and `<<` merges, rejecting
/// duplicate keys, recording source positions and enforcing ``YAMLLimits``.
///
/// Alias expansion is bounded by logical size: every alias adds the full node count of what it refers to, even
/// though Swift shares the storage, so a "billion laughs" document fails after a few hundred aliases instead of
/// handing a tree with 10^9 logical nodes to the code that walks it.
struct TreeBuilder {
    private let parser: LibYAMLParser
    private let limits: YAMLLimits
    private let file: String?

    private var nodes: [PositionTable.Node] = []
    private var edges: [PositionTable.Edge] = []
    /// Members of collections still being built; a finished collection moves its own to `edges`.
    private var pendingEdges: [PositionTable.Edge] = []
    private var anchors: [String: Built] = [:]
    private var aliasExpansion = 0

    /// A built node: its value, its position entry, its logical node count and its collection nesting height.
    private struct Built {
        var value: JSONValue
        var node: Int
        var size: Int
        var height: Int
    }

    private struct PendingMerge {
        var insertAt: Int
        var source: Built
        var position: SourcePosition
    }

    init(parser: LibYAMLParser, limits: YAMLLimits, file: String?) {
        self.parser = parser
        self.limits = limits
        self.file = file
    }

    mutating func buildStream() throws(YAMLError) -> [YAMLDocument] {
        guard case .streamStart = try parser.next() else { throw error(nil, "YAML stream does not start correctly") }
        var roots: [(value: JSONValue, node: Int)] = []
        while true {
            switch try parser.next() {
            case .documentStart:
                anchors.removeAll(keepingCapacity: true)
                let root = try build(parser.next(), depth: 0)
                guard case .documentEnd = try parser.next() else {
                    throw error(nodes[root.node].position, "document does not end correctly")
                }
                roots.append((root.value, root.node))
            case .streamEnd:
                let table = PositionTable(nodes: nodes, edges: edges)
                return roots.map { root in
                    YAMLDocument(
                        value: root.value, file: file, start: table.nodes[root.node].position,
                        positions: table, rootNode: root.node
                    )
                }
            default:
                throw error(nil, "unexpected content between documents")
            }
        }
    }

    private mutating func build(_ event: ParserEvent, depth: Int) throws(YAMLError) -> Built {
        switch event {
        case .scalar(let scalar):
            let value: JSONValue
            switch ScalarResolver.resolve(scalar) {
            case .success(let resolved): value = resolved
            case .failure(let failure): throw error(scalar.position, failure.message)
            }
            let built = Built(value: value, node: addNode(scalar.position, firstEdge: 0, count: 0), size: 1, height: 0)
            if let anchor = scalar.anchor { anchors[anchor] = built }
            return built
        case .alias(let anchor, let position):
            return try expandAlias(anchor, at: position, depth: depth)
        case .sequenceStart(let start):
            return try buildSequence(start, depth: depth)
        case .mappingStart(let start):
            return try buildMapping(start, depth: depth)
        default:
            throw error(nil, "unexpected YAML structure")
        }
    }

    private mutating func expandAlias(_ anchor: String, at position: SourcePosition, depth: Int) throws(YAMLError)
        -> Built
    {
        guard let target = anchors[anchor] else { throw error(position, "unknown anchor \"\(anchor)\"") }
        aliasExpansion += target.size
        guard aliasExpansion <= limits.maxAliasExpansion else {
            throw error(
                position,
                "aliases expand to more than \(limits.maxAliasExpansion) nodes (alias bomb?); the limit is "
                    + "YAMLLimits.maxAliasExpansion"
            )
        }
        guard depth + target.height <= limits.maxDepth else { throw depthError(position) }
        return target
    }

    private mutating func buildSequence(_ start: CollectionEvent, depth: Int) throws(YAMLError) -> Built {
        guard depth < limits.maxDepth else { throw depthError(start.position) }
        try checkCollectionTag(start.tag, expected: "seq", at: start.position)
        let pendingBase = pendingEdges.count
        var elements: [JSONValue] = []
        var size = 1
        var height = 1
        while true {
            let event = try parser.next()
            if case .sequenceEnd = event { break }
            let child = try build(event, depth: depth + 1)
            elements.append(child.value)
            let childNode = nodes[child.node]
            pendingEdges.append(.init(keyLine: childNode.line, keyColumn: childNode.column, node: child.node))
            size += child.size
            height = max(height, child.height + 1)
        }
        let built = Built(
            value: .array(elements), node: finishCollection(start.position, pendingBase: pendingBase),
            size: size, height: height
        )
        if let anchor = start.anchor { anchors[anchor] = built }
        return built
    }

    private mutating func buildMapping(_ start: CollectionEvent, depth: Int) throws(YAMLError) -> Built {
        guard depth < limits.maxDepth else { throw depthError(start.position) }
        try checkCollectionTag(start.tag, expected: "map", at: start.position)
        let pendingBase = pendingEdges.count
        var entries: [JSONObject.Entry] = []
        var keyIndex: [String: Int]?
        var merges: [PendingMerge] = []
        var size = 1
        var height = 1
        while true {
            let keyEvent = try parser.next()
            if case .mappingEnd = keyEvent { break }
            if case .scalar(let scalar) = keyEvent, Self.isMergeKey(scalar) {
                let source = try build(parser.next(), depth: depth + 1)
                merges.append(PendingMerge(insertAt: entries.count, source: source, position: scalar.position))
                size += source.size
                height = max(height, source.height)
                continue
            }
            let (key, keyPosition) = try mappingKey(keyEvent, depth: depth + 1)
            let value = try build(parser.next(), depth: depth + 1)
            if let existing = keyIndex?[key] ?? (keyIndex == nil ? Self.linearIndex(of: key, in: entries) : nil) {
                let first = pendingEdges[pendingBase + existing].keyPosition
                throw error(keyPosition, "duplicate key \(JSON.emit(.string(key))) (first at \(first))")
            }
            entries.append(JSONObject.Entry(key: key, value: value.value))
            pendingEdges.append(
                .init(
                    keyLine: Int32(keyPosition.line), keyColumn: Int32(keyPosition.column),
                    node: value.node))
            if keyIndex != nil {
                keyIndex![key] = entries.count - 1
            } else if entries.count > JSONObject.indexThreshold {
                keyIndex = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) })
            }
            size += value.size
            height = max(height, value.height + 1)
        }
        if !merges.isEmpty { entries = try applyMerges(merges, to: entries, pendingBase: pendingBase) }
        let built = Built(
            value: .object(JSONObject(uniqueEntries: entries)),
            node: finishCollection(start.position, pendingBase: pendingBase), size: size, height: height
        )
        if let anchor = start.anchor { anchors[anchor] = built }
        return built
    }

    /// Duplicate check for small mappings; comparing lengths first skips most string comparisons.
    private static func linearIndex(of key: String, in entries: [JSONObject.Entry]) -> Int? {
        let length = key.utf8.count
        return entries.firstIndex { $0.key.utf8.count == length && $0.key == key }
    }

    /// `<<` written plain or tagged `!!merge` (a quoted `"<<"` is an ordinary key).
    private static func isMergeKey(_ scalar: ScalarEvent) -> Bool {
        // Length first: comparing every key with "<<" is measurable on large streams.
        guard scalar.value.utf8.count == 2, scalar.value == "<<" else { return false }
        return scalar.tag == ScalarResolver.tagPrefix + "merge" || (scalar.isPlain && scalar.tag == nil)
    }

    /// A mapping key as a string: scalars that type as numbers or booleans become their text form, as
    /// sigs.k8s.io/yaml does (`1: a` has key "1", `true: x` and `yes: x` have key "true").
    private mutating func mappingKey(_ event: ParserEvent, depth: Int) throws(YAMLError) -> (String, SourcePosition) {
        let built = try build(event, depth: depth)
        var position = nodes[built.node].position
        if case .alias(_, let aliasPosition) = event { position = aliasPosition }
        switch built.value {
        case .string(let text): return (text, position)
        case .int(let integer): return (String(integer), position)
        case .bool(let flag): return (flag ? "true" : "false", position)
        case .double(let number): return (Self.keyText(number), position)
        case .null: throw error(position, "a mapping key cannot be null")
        case .array, .object: throw error(position, "mapping keys must be scalars, found \(built.value.kindName)")
        }
    }

    private static func keyText(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Inf" : "+Inf" }
        if let integer = Int64(exactly: number), abs(integer) < 1_000_000 { return String(integer) }
        return number.description
    }

    /// Inserts merged members at the `<<` position: explicit keys win over merged ones, earlier sources over later.
    private mutating func applyMerges(_ merges: [PendingMerge], to explicit: [JSONObject.Entry], pendingBase: Int)
        throws(YAMLError) -> [JSONObject.Entry]
    {
        var seen = Set(explicit.map(\.key))
        var merged: [JSONObject.Entry] = []
        var mergedEdges: [PositionTable.Edge] = []
        var nextMerge = 0
        for position in 0...explicit.count {
            while nextMerge < merges.count, merges[nextMerge].insertAt == position {
                for (object, node) in try mergeSources(merges[nextMerge]) {
                    let firstEdge = nodes[node].firstEdge
                    for (offset, entry) in object.entries.enumerated() where seen.insert(entry.key).inserted {
                        merged.append(entry)
                        mergedEdges.append(edges[firstEdge + offset])
                    }
                }
                nextMerge += 1
            }
            if position < explicit.count {
                merged.append(explicit[position])
                mergedEdges.append(pendingEdges[pendingBase + position])
            }
        }
        pendingEdges.replaceSubrange(pendingBase..., with: mergedEdges)
        return merged
    }

    private func mergeSources(_ merge: PendingMerge) throws(YAMLError) -> [(JSONObject, Int)] {
        switch merge.source.value {
        case .object(let object):
            return [(object, merge.source.node)]
        case .array(let elements):
            let firstEdge = nodes[merge.source.node].firstEdge
            var sources: [(JSONObject, Int)] = []
            for (offset, element) in elements.enumerated() {
                guard case .object(let object) = element else {
                    throw error(
                        merge.position, "merge key << needs mappings, found a sequence containing \(element.kindName)")
                }
                sources.append((object, edges[firstEdge + offset].node))
            }
            return sources
        default:
            throw error(
                merge.position,
                "merge key << needs a mapping or a sequence of mappings, found \(merge.source.value.kindName)")
        }
    }

    private func checkCollectionTag(_ tag: String?, expected: String, at position: SourcePosition) throws(YAMLError) {
        guard let tag, tag.hasPrefix(ScalarResolver.tagPrefix) else { return }
        let name = tag.dropFirst(ScalarResolver.tagPrefix.count)
        guard name == expected else {
            throw error(position, "tag !!\(name) cannot be used on a \(expected == "map" ? "mapping" : "sequence")")
        }
    }

    private mutating func addNode(_ position: SourcePosition, firstEdge: Int, count: Int) -> Int {
        nodes.append(
            .init(line: Int32(position.line), column: Int32(position.column), firstEdge: firstEdge, count: count))
        return nodes.count - 1
    }

    private mutating func finishCollection(_ position: SourcePosition, pendingBase: Int) -> Int {
        let firstEdge = edges.count
        edges.append(contentsOf: pendingEdges[pendingBase...])
        pendingEdges.removeSubrange(pendingBase...)
        return addNode(position, firstEdge: firstEdge, count: edges.count - firstEdge)
    }

    private func depthError(_ position: SourcePosition) -> YAMLError {
        error(position, "nesting is deeper than \(limits.maxDepth) levels (YAMLLimits.maxDepth)")
    }

    private func error(_ position: SourcePosition?, _ message: String) -> YAMLError {
        YAMLError(file: file, position: position, message: message)
    }
}
