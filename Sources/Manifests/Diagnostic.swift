import YAML

/// One problem in a manifest file, located as precisely as known: `file:line:column: path: message`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition?
    /// Field path inside the object (`spec.ingress[0].ports[0].port`), empty for the document as a whole.
    public var path: String
    public var message: String

    public init(file: String, position: SourcePosition?, path: String, message: String) {
        self.file = file
        self.position = position
        self.path = path
        self.message = message
    }

    public var description: String {
        let location = position.map { "\(file):\($0.line):\($0.column)" } ?? file
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}
