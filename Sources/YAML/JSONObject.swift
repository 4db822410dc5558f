/// A JSON object that keeps its members in document order.
///
/// Order matters to people reading output (`-o yaml` should look like the input), not to meaning: equality and
/// hashing ignore it. Keys are unique. Small objects (most Kubernetes objects) are searched linearly; larger ones
/// keep a key index so lookups stay O(1) for maps with thousands of entries (ConfigMap data, labels).
public struct JSONObject: Sendable {
    struct Entry: Sendable {
        var key: String
        var value: JSONValue
    }

    private(set) var entries: [Entry]
    private var index: [String: Int]?

    static let indexThreshold = 12

    /// Builds an object from pairs in order; a repeated key keeps its first position and takes the last value.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        entries.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public init() {
        entries = []
        index = nil
    }

    /// Builds from entries already known to have unique keys (the parsers check duplicates themselves).
    init(uniqueEntries: [Entry]) {
        entries = uniqueEntries
        index = nil
        if entries.count > Self.indexThreshold { rebuildIndex() }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// The keys in document order.
    public var keys: [String] { entries.map(\.key) }

    /// The values in document order.
    public var values: [JSONValue] { entries.map(\.value) }

    /// The position of `key` in document order.
    public func index(forKey key: String) -> Int? {
        if let index { return index[key] }
        for position in entries.indices where entries[position].key == key { return position }
        return nil
    }

    /// The value for `key`; setting `nil` removes the member, setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = index(forKey: key) else { return nil }
            return entries[position].value
        }
        set {
            if let position = index(forKey: key) {
                if let newValue {
                    entries[position].value = newValue
                } else {
                    entries.remove(at: position)
                    if index != nil { rebuildIndex() }
                }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
                if index != nil {
                    index![key] = entries.count - 1
                } else if entries.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    private mutating func rebuildIndex() {
        var built = [String: Int](minimumCapacity: entries.count)
        for (position, entry) in entries.enumerated() { built[entry.key] = position }
        index = built
    }
}

extension JSONObject: Sequence {
    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Entry]>
        public mutating func next() -> (key: String, value: JSONValue)? {
            guard let entry = base.next() else { return nil }
            return (entry.key, entry.value)
        }
    }

    public func makeIterator() -> Iterator { Iterator(base: entries.makeIterator()) }
    public var underestimatedCount: Int { entries.count }
}

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for position in lhs.entries.indices {
            let entry = lhs.entries[position]
            // Fast path for the common case of identical order.
            if rhs.entries[position].key == entry.key {
                if rhs.entries[position].value != entry.value { return false }
            } else if rhs[entry.key] != entry.value {
                return false
            }
        }
        return true
    }

    /// Order-independent: combines each member's own hash commutatively.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for entry in entries {
            var member = Hasher()
            member.combine(entry.key)
            member.combine(entry.value)
            combined ^= member.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}
