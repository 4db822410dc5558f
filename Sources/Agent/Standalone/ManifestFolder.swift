import Foundation
import KubeModel
import YAML

/// A problem with one file or document of a manifest folder, located as precisely as the input allows.
public struct ManifestProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition?
    /// Field path inside the document, when the problem is about one field.
    public var path: String?
    public var message: String

    public var description: String {
        let location = position.map { "\(file):\($0.line):\($0.column)" } ?? file
        return path.map { "\(location): \($0): \(message)" } ?? "\(location): \(message)"
    }
}

/// Every object found in a folder of YAML/JSON manifests, plus what could not be read.
public struct LoadedManifests: Sendable {
    public var objects = ClusterObjects()
    public var problems: [ManifestProblem] = []
    /// Documents whose kind Bulwark does not read (Deployments, Services…), counted so the user sees they were seen.
    public var ignoredDocuments = 0
}

/// Reads a folder of Kubernetes manifests (the standalone mode's stand-in for the API server).
///
/// Why per-document error handling: one broken file or one malformed object must not hide the others; each problem
/// is reported with its file, line:column and field path, and everything else is used.
public enum ManifestFolder {
    /// Loads every `.yaml`, `.yml` and `.json` file under `directory` (recursively, in path order), skipping the
    /// subfolders named in `excluding` (standalone mode writes `status/` into the same folder).
    public static func load(directory: String, excluding: Set<String> = ["status"]) -> LoadedManifests {
        var result = LoadedManifests()
        for file in manifestFiles(in: directory, excluding: excluding) {
            load(file: file, into: &result)
        }
        return result
    }

    static func manifestFiles(in directory: String, excluding: Set<String>) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        for case let relative as String in walker {
            if let first = relative.split(separator: "/").first, excluding.contains(String(first)) { continue }
            guard [".yaml", ".yml", ".json"].contains(where: relative.hasSuffix) else { continue }
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            files.append(directory + "/" + relative)
        }
        return files.sorted()
    }

    static func load(file: String, into result: inout LoadedManifests) {
        let documents: [YAMLDocument]
        do {
            documents = try YAML.parseAll(contentsOf: file)
        } catch {
            result.problems.append(
                ManifestProblem(file: file, position: error.position, path: nil, message: error.message))
            return
        }
        for document in documents {
            decode(document.value, document: document, file: file, path: FieldPath([]), into: &result)
        }
    }

    private static func decode(
        _ value: JSONValue, document: YAMLDocument, file: String, path: FieldPath, into result: inout LoadedManifests
    ) {
        if case .null = value { return }
        let apiVersion = value["apiVersion"]?.stringValue ?? ""
        let kind = value["kind"]?.stringValue ?? ""
        func problem(_ message: String, at relative: FieldPath? = nil) {
            let full = FieldPath(path.components + (relative?.components ?? []))
            result.problems.append(
                ManifestProblem(
                    file: file, position: document.position(of: full) ?? document.position(of: path),
                    path: relative.map(\.description), message: message))
        }
        func typed<T: Decodable>(_ type: T.Type) -> T? {
            do {
                return try JSONValueDecoder().decode(type, from: value)
            } catch {
                problem(error.message, at: error.path)
                return nil
            }
        }
        switch (apiVersion, kind) {
        case ("v1", "List"):
            for (index, item) in (value["items"]?.arrayValue ?? []).enumerated() {
                let itemPath = FieldPath(path.components + [.key("items"), .index(index)])
                decode(item, document: document, file: file, path: itemPath, into: &result)
            }
        case (Pod.apiVersion, Pod.kind): typed(Pod.self).map { result.objects.pods.append($0) }
        case (Namespace.apiVersion, Namespace.kind): typed(Namespace.self).map { result.objects.namespaces.append($0) }
        case (NetworkPolicy.apiVersion, NetworkPolicy.kind):
            typed(NetworkPolicy.self).map { result.objects.networkPolicies.append($0) }
        case (BulwarkPolicy.apiVersion, BulwarkPolicy.kind):
            typed(BulwarkPolicy.self).map { result.objects.bulwarkPolicies.append($0) }
        case ("", _), (_, ""):
            problem("not a Kubernetes object: apiVersion and kind are required")
        default:
            result.ignoredDocuments += 1
        }
    }
}
