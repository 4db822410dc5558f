/// One step into a value tree: a member of an object or an element of an array.
public enum PathComponent: Hashable, Sendable {
    case key(String)
    case index(Int)
}

/// Where a value sits inside a document, printed the way operators read it: `spec.ingress[0].ports[1].port`.
///
/// Keys that are not plain identifiers are quoted so the path stays unambiguous:
/// `metadata.labels["app.kubernetes.io/name"]`. The empty path (the document itself) prints as `(root)`.
public struct FieldPath: Hashable, Sendable {
    public var components: [PathComponent]

    public init(_ components: [PathComponent] = []) {
        self.components = components
    }

    public static let root = FieldPath()

    public var isRoot: Bool { components.isEmpty }

    public func appending(_ component: PathComponent) -> FieldPath {
        FieldPath(components + [component])
    }

    public func appending(key: String) -> FieldPath { appending(.key(key)) }
    public func appending(index: Int) -> FieldPath { appending(.index(index)) }

    public static func + (lhs: FieldPath, rhs: FieldPath) -> FieldPath {
        FieldPath(lhs.components + rhs.components)
    }
}

extension FieldPath: CustomStringConvertible {
    public var description: String {
        if components.isEmpty { return "(root)" }
        var text = ""
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key) where Self.isPlainKey(key):
                if !text.isEmpty { text += "." }
                text += key
            case .key(let key):
                text += "[\(JSON.emit(.string(key)))]"
            }
        }
        return text
    }

    private static func isPlainKey(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "$"):
                true
            default:
                false
            }
        }
    }
}

extension FieldPath: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: PathComponent...) { self.init(elements) }
}

extension PathComponent: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .key(value) }
    public init(integerLiteral value: Int) { self = .index(value) }
}

/// A place in source text, 1-based like every editor and compiler message.
public struct SourcePosition: Hashable, Sendable, Comparable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

extension SourcePosition: CustomStringConvertible {
    /// `line:column`
    public var description: String { "\(line):\(column)" }
}
