/// One step of a path into an object: a map key or a list index.
public enum FieldStep: Hashable, Sendable {
    case key(String)
    case index(Int)
}

/// A problem with one field of an object, named by its path (`spec.ingress[0].ports[1].port`).
///
/// Why a structured path rather than a string: the CLI maps the path back to the YAML source to print
/// `file:line:column`, and the agent writes it verbatim into the policy's status condition message.
public struct FieldError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: [FieldStep]
    public var message: String

    public init(path: [FieldStep], message: String) {
        self.path = path
        self.message = message
    }

    /// `spec.ingress[0].from[1].ipBlock.cidr` (empty for the object itself).
    public var pathDescription: String {
        var text = ""
        for step in path {
            switch step {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    /// `PATH: MESSAGE`, the form Kubernetes uses for field errors.
    public var description: String { path.isEmpty ? message : "\(pathDescription): \(message)" }
}

extension Array where Element == FieldStep {
    /// The path one map key further down.
    public func key(_ name: String) -> [FieldStep] { self + [.key(name)] }
    /// The path one list element further down.
    public func index(_ index: Int) -> [FieldStep] { self + [.index(index)] }
}
