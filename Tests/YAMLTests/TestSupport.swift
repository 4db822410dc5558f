import YAML

/// The value of a stream that must hold exactly one document.
func parseValue(_ yaml: String, limits: YAMLLimits = .default) throws -> JSONValue {
    try YAML.parseOne(yaml, limits: limits).value
}

/// The error a stream produces, or nil when it parses.
func parseError(_ yaml: String, file: String? = nil, limits: YAMLLimits = .default) -> YAMLError? {
    do {
        _ = try YAML.parseAll(yaml, file: file, limits: limits)
        return nil
    } catch {
        return error
    }
}

#if canImport(Glibc)
    import Glibc
#endif

extension String {
    /// Writes the string to a file (test fixtures only).
    func write(toFile path: String) throws {
        guard let file = fopen(path, "w") else { throw YAMLError(file: path, message: "cannot create") }
        defer { fclose(file) }
        fputs(self, file)
    }
}
