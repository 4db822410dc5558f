import YAML

/// One Kubernetes object of a manifest file, as parsed by the project's YAML module.
struct ManifestObject {
    var value: JSONValue
    var file: String

    var kind: String { value["kind"]?.stringValue ?? "" }
    var apiVersion: String { value["apiVersion"]?.stringValue ?? "" }
    var name: String { value["metadata"]?["name"]?.stringValue ?? "" }
    var namespace: String? { value["metadata"]?["namespace"]?.stringValue }

    subscript(key: String) -> JSONValue? { value[key] }
}

enum Manifests {
    /// The objects of one YAML stream; empty documents are skipped, as `kubectl apply` skips them.
    static func objects(inYAML text: String, file: String) throws -> [ManifestObject] {
        try YAML.parseAll(text, file: file).filter { !$0.value.isNull }.map {
            ManifestObject(value: $0.value, file: file)
        }
    }

    static func objects(inFile relativePath: String) throws -> [ManifestObject] {
        try YAML.parseAll(contentsOf: Repository.path(relativePath))
            .filter { !$0.value.isNull }
            .map { ManifestObject(value: $0.value, file: relativePath) }
    }

    /// The files `kubectl apply -f manifests/` reads: `*.yaml`, `*.yml` and `*.json` directly in the directory.
    static func applyFiles(in relativeDirectory: String = "manifests") throws -> [String] {
        try Repository.entries(of: relativeDirectory)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
            .map { "\(relativeDirectory)/\($0)" }
    }

    /// Every object the install applies, in `kubectl apply -f manifests/` order.
    static func install() throws -> [ManifestObject] {
        try applyFiles().flatMap { try objects(inFile: $0) }
    }

    /// Every object of the install and of the uninstall helper (`manifests/cleanup/`).
    static func installAndCleanup() throws -> [ManifestObject] {
        try install() + applyFiles(in: "manifests/cleanup").flatMap { try objects(inFile: $0) }
    }

    static func single(kind: String, name: String, in objects: [ManifestObject]) throws -> ManifestObject {
        let matches = objects.filter { $0.kind == kind && $0.name == name }
        guard matches.count == 1 else {
            throw TestFailure("expected exactly one \(kind) named \(name), found \(matches.count)")
        }
        return matches[0]
    }
}

extension JSONValue {
    /// The strings of an array value; `nil` when this is not an array of strings.
    var stringArray: [String]? {
        guard let array = arrayValue else { return nil }
        let strings = array.compactMap(\.stringValue)
        return strings.count == array.count ? strings : nil
    }
}
