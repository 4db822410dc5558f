/// A Kubernetes label selector (`metav1.LabelSelector`): `matchLabels` and `matchExpressions`, ANDed.
///
/// An empty selector (`{}`) selects everything; whether an *absent* selector means "nothing" or "everything"
/// depends on the field that holds it, so fields keep it optional and the caller decides.
public struct LabelSelector: Codable, Hashable, Sendable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [LabelSelectorRequirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// Selects every object.
    public static let everything = LabelSelector()

    /// True when the selector has no requirement at all and so selects every object.
    public var isEmpty: Bool { (matchLabels ?? [:]).isEmpty && (matchExpressions ?? []).isEmpty }

    /// True when `labels` satisfies every requirement. Call `validate(at:)` first: an invalid requirement
    /// (unknown operator) matches nothing.
    public func matches(_ labels: [String: String]) -> Bool {
        if let matchLabels {
            for (key, value) in matchLabels where labels[key] != value { return false }
        }
        if let matchExpressions {
            for requirement in matchExpressions where !requirement.matches(labels) { return false }
        }
        return true
    }

    /// Checks label keys, values and operators; returns every problem found, with its path under `path`.
    public func validate(at path: [FieldStep]) -> [FieldError] {
        var errors: [FieldError] = []
        for (key, value) in (matchLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
            let keyPath = path.key("matchLabels").key(key)
            if let problem = LabelSyntax.checkKey(key) {
                errors.append(FieldError(path: keyPath, message: "invalid label key \"\(key)\": \(problem)"))
            }
            if let problem = LabelSyntax.checkValue(value) {
                errors.append(FieldError(path: keyPath, message: "invalid label value \"\(value)\": \(problem)"))
            }
        }
        for (index, requirement) in (matchExpressions ?? []).enumerated() {
            errors += requirement.validate(at: path.key("matchExpressions").index(index))
        }
        return errors
    }
}

/// One `matchExpressions` entry: `key`, `operator` and `values`.
public struct LabelSelectorRequirement: Codable, Hashable, Sendable {
    public var key: String
    public var `operator`: LabelSelectorOperator
    public var values: [String]?

    public init(key: String, operator: LabelSelectorOperator, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }

    public func matches(_ labels: [String: String]) -> Bool {
        switch self.operator {
        case .in: labels[key].map { (values ?? []).contains($0) } ?? false
        case .notIn: labels[key].map { !(values ?? []).contains($0) } ?? true
        case .exists: labels[key] != nil
        case .doesNotExist: labels[key] == nil
        default: false
        }
    }

    public func validate(at path: [FieldStep]) -> [FieldError] {
        var errors: [FieldError] = []
        if let problem = LabelSyntax.checkKey(key) {
            errors.append(FieldError(path: path.key("key"), message: "invalid label key \"\(key)\": \(problem)"))
        }
        let values = values ?? []
        switch self.operator {
        case .in, .notIn:
            if values.isEmpty {
                errors.append(
                    FieldError(path: path.key("values"), message: "must be non-empty when operator is \(self.operator)"))
            }
            for (index, value) in values.enumerated() {
                if let problem = LabelSyntax.checkValue(value) {
                    errors.append(
                        FieldError(
                            path: path.key("values").index(index),
                            message: "invalid label value \"\(value)\": \(problem)"))
                }
            }
        case .exists, .doesNotExist:
            if !values.isEmpty {
                errors.append(
                    FieldError(path: path.key("values"), message: "must be empty when operator is \(self.operator)"))
            }
        default:
            errors.append(
                FieldError(
                    path: path.key("operator"),
                    message: "unsupported operator \"\(self.operator)\": must be one of In, NotIn, Exists, DoesNotExist"))
        }
        return errors
    }
}

/// A label selector operator. A string-backed type rather than an enum so an unknown operator decodes and is
/// reported by validation with its field path, instead of failing the whole object's decoding.
public struct LabelSelectorOperator: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let `in` = Self(rawValue: "In")
    public static let notIn = Self(rawValue: "NotIn")
    public static let exists = Self(rawValue: "Exists")
    public static let doesNotExist = Self(rawValue: "DoesNotExist")

    public var description: String { rawValue }
}

/// Kubernetes label key and value syntax (`k8s.io/apimachinery/pkg/util/validation`).
public enum LabelSyntax {
    /// Why a key is invalid, or nil. Keys are `[prefix/]name`: prefix a DNS-1123 subdomain (<= 253), name a
    /// qualified name (<= 63).
    public static func checkKey(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return checkName(parts[0])
        case 2:
            if parts[0].isEmpty { return "prefix part must be non-empty" }
            if let problem = checkSubdomain(parts[0]) { return "prefix part \(problem)" }
            return checkName(parts[1])
        default:
            return "must be a qualified name: an optional DNS subdomain prefix and '/', then a name"
        }
    }

    /// Why a value is invalid, or nil. Values may be empty; otherwise they follow the name rules.
    public static func checkValue(_ value: String) -> String? {
        value.isEmpty ? nil : checkName(Substring(value), what: "value")
    }

    private static func checkName(_ name: Substring, what: String = "name part") -> String? {
        if name.isEmpty { return "\(what) must be non-empty" }
        if name.utf8.count > 63 { return "\(what) must be no more than 63 characters" }
        let bytes = Array(name.utf8)
        let valid =
            isAlphanumeric(bytes.first!) && isAlphanumeric(bytes.last!)
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
        if !valid {
            return "\(what) must consist of alphanumeric characters, '-', '_' or '.', "
                + "and must start and end with an alphanumeric character"
        }
        return nil
    }

    private static func checkSubdomain(_ text: Substring) -> String? {
        if text.utf8.count > 253 { return "must be no more than 253 characters" }
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            guard let first = bytes.first, let last = bytes.last,
                isLowerAlphanumeric(first), isLowerAlphanumeric(last),
                bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else {
                return "must be a lowercase RFC 1123 subdomain (e.g. 'example.com')"
            }
        }
        return nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
