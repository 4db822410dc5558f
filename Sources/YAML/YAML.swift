#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reading and writing YAML streams (Kubernetes manifests, kubeconfig files) as ``JSONValue`` trees.
///
/// Parsing uses libyaml and types plain scalars the way `kubectl` does (sigs.k8s.io/yaml, go-yaml v2 rules), so a
/// manifest means the same here as in the cluster:
/// - `true`/`false` and the YAML 1.1 words `yes`/`no`, `on`/`off`, `y`/`n` (each also Capitalised or UPPER) are
///   booleans; `~`, `null` and empty are null;
/// - integers may be signed, hex (`0x`), octal (`0o`, or a leading `0`: `0755` is 493) or binary (`0b`), with `_`
///   separators; floats include `1e3`, `.5`, `.inf`, `.nan`; timestamps stay strings;
/// - quoted and block scalars are strings; tags `!!str !!int !!float !!bool !!null !!map !!seq` are enforced;
/// - mapping keys that type as numbers or booleans become their text (`yes: 1` has key `"true"`), null and
///   collection keys are errors, duplicate keys are errors; anchors, aliases and `<<` merges are resolved.
///
/// Emitting uses libyaml's emitter and quotes every string that would otherwise read back as another type, so
/// `parseAll(emit(v))` gives `v` back.
public enum YAML {
    /// Every document of a stream, in order.
    ///
    /// An empty stream (or one with only comments) has no documents. An empty document (`---` followed by nothing)
    /// is a document whose value is `.null`; callers loading manifests skip those, as `kubectl apply` does.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 (or UTF-16 with a byte-order mark) YAML text.
    ///   - file: Name used in error messages and ``YAMLDocument/file``.
    ///   - limits: Bounds on size, nesting and alias expansion.
    public static func parseAll(
        _ bytes: some Collection<UInt8>, file: String? = nil, limits: YAMLLimits = .default
    ) throws(YAMLError) -> [YAMLDocument] {
        guard bytes.count <= limits.maxDocumentBytes else {
            throw YAMLError(
                file: file,
                message: "input is \(bytes.count) bytes, more than the limit of \(limits.maxDocumentBytes) bytes"
            )
        }
        let parser = try LibYAMLParser(bytes: bytes, file: file)
        var builder = TreeBuilder(parser: parser, limits: limits, file: file)
        return try builder.buildStream()
    }

    /// Every document of a YAML text; see ``parseAll(_:file:limits:)-(Collection<UInt8>,_,_)``.
    public static func parseAll(_ text: String, file: String? = nil, limits: YAMLLimits = .default)
        throws(YAMLError) -> [YAMLDocument]
    {
        try parseAll(Array(text.utf8), file: file, limits: limits)
    }

    /// Every document of the file at `path`; errors name the file.
    public static func parseAll(contentsOf path: String, limits: YAMLLimits = .default)
        throws(YAMLError) -> [YAMLDocument]
    {
        try parseAll(readFile(path, limits: limits), file: path, limits: limits)
    }

    /// The value of a stream that must hold exactly one document (a kubeconfig, a single manifest).
    public static func parseOne(_ text: String, file: String? = nil, limits: YAMLLimits = .default)
        throws(YAMLError) -> YAMLDocument
    {
        let documents = try parseAll(text, file: file, limits: limits)
        guard documents.count == 1 else {
            let position = documents.count > 1 ? documents[1].start : nil
            throw YAMLError(
                file: file, position: position, message: "expected one YAML document, found \(documents.count)")
        }
        return documents[0]
    }

    /// One document as YAML text (block style, two-space indent, ending in a newline).
    public static func emit(_ value: JSONValue) -> String {
        emitAll([value])
    }

    /// Several documents separated by `---` lines.
    public static func emitAll(_ values: [JSONValue]) -> String {
        guard let emitter = LibYAMLEmitter() else {
            return values.map { JSON.emit($0) + "\n" }.joined(separator: "---\n")
        }
        emitter.streamStart()
        for (index, value) in values.enumerated() {
            emitter.documentStart(explicitMarker: index > 0)
            emitNode(value, into: emitter)
            emitter.documentEnd()
        }
        emitter.streamEnd()
        guard emitter.succeeded else {
            // JSON is valid YAML: a correct, if less readable, answer when libyaml refuses something.
            return values.map { JSON.emit($0) + "\n" }.joined(separator: "---\n")
        }
        return String(decoding: emitter.output, as: UTF8.self)
    }

    private static func emitNode(_ value: JSONValue, into emitter: LibYAMLEmitter) {
        switch value {
        case .null: emitter.scalar("null", style: .any)
        case .bool(let flag): emitter.scalar(flag ? "true" : "false", style: .any)
        case .int(let integer): emitter.scalar(String(integer), style: .any)
        case .double(let number): emitter.scalar(yamlText(number), style: .any)
        case .string(let text): emitString(text, into: emitter)
        case .array(let elements):
            emitter.sequenceStart(flow: elements.isEmpty)
            for element in elements { emitNode(element, into: emitter) }
            emitter.sequenceEnd()
        case .object(let object):
            emitter.mappingStart(flow: object.isEmpty)
            for (key, member) in object {
                emitString(key, into: emitter)
                emitNode(member, into: emitter)
            }
            emitter.mappingEnd()
        }
    }

    private static func emitString(_ text: String, into emitter: LibYAMLEmitter) {
        if ScalarResolver.plainTextChangesMeaning(text) {
            emitter.scalar(text, style: .doubleQuoted)
        } else if text.utf8.contains(UInt8(ascii: "\n")) {
            emitter.scalar(text, style: .literal)
        } else {
            emitter.scalar(text, style: .any)
        }
    }

    /// Shortest text that reads back as the same double (`1.0`, `1e+20`, `.inf`, `.nan`).
    static func yamlText(_ number: Double) -> String {
        if number.isNaN { return ".nan" }
        if number.isInfinite { return number < 0 ? "-.inf" : ".inf" }
        return number.description
    }

    private static func readFile(_ path: String, limits: YAMLLimits) throws(YAMLError) -> [UInt8] {
        let files = FileManager.default
        var isDirectory = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw YAMLError(file: path, message: "no such file")
        }
        guard !isDirectory else { throw YAMLError(file: path, message: "is a directory, not a YAML file") }
        if let size = (try? files.attributesOfItem(atPath: path))?[.size] as? Int, size > limits.maxDocumentBytes {
            throw YAMLError(
                file: path, message: "file is \(size) bytes, more than the limit of \(limits.maxDocumentBytes) bytes"
            )
        }
        guard let data = files.contents(atPath: path) else {
            throw YAMLError(file: path, message: "cannot read file (permission denied?)")
        }
        return [UInt8](data)
    }
}
