/// Why YAML or JSON text could not be read, and where: `policy.yaml:12:5: mapping values are not allowed here`.
///
/// Used for both syntax errors (from libyaml or the JSON parser) and meaning errors found while building the tree
/// (duplicate keys, bad tags, exceeded limits), so callers print one kind of message.
public struct YAMLError: Error, Sendable, Hashable {
    /// The file name given to the parser, if any.
    public var file: String?
    /// Where the problem is, when known (unreadable files and size limits have none).
    public var position: SourcePosition?
    public var message: String

    public init(file: String? = nil, position: SourcePosition? = nil, message: String) {
        self.file = file
        self.position = position
        self.message = message
    }
}

extension YAMLError: CustomStringConvertible {
    public var description: String {
        var prefix = ""
        if let file { prefix = file + ":" }
        if let position { prefix += "\(position):" }
        return prefix.isEmpty ? message : "\(prefix) \(message)"
    }
}

/// Bounds that keep hostile input (deep nesting, huge files, "billion laughs" alias bombs) from exhausting time,
/// memory or stack, in the parser and in everything that later walks the tree.
public struct YAMLLimits: Sendable, Hashable {
    /// Deepest nesting of collections, counting collections reached through aliases.
    public var maxDepth: Int
    /// Largest input accepted, in bytes, for the whole stream.
    public var maxDocumentBytes: Int
    /// Most nodes that aliases (including `<<` merges of aliases) may add over the whole stream. A tree's logical
    /// size is bounded by the input size plus this number.
    public var maxAliasExpansion: Int

    public init(maxDepth: Int = 256, maxDocumentBytes: Int = 64 << 20, maxAliasExpansion: Int = 1_000_000) {
        self.maxDepth = maxDepth
        self.maxDocumentBytes = maxDocumentBytes
        self.maxAliasExpansion = maxAliasExpansion
    }

    /// 256 levels, 64 MiB, one million alias-expanded nodes: far above any real manifest.
    public static let `default` = YAMLLimits()
}
