import KubeModel
import PolicyCompiler
import YAML

import Foundation

/// The Kubernetes objects of a set of YAML/JSON files, decoded into typed values, with a diagnostic for every
/// document that could not be read, decoded or validated.
///
/// Why one loader for `validate`, `explain` and standalone mode: all three must agree on which documents count and
/// report problems at the same `file:line:column`.
public struct ManifestSet: Sendable {
    public var namespaces: [Namespace] = []
    public var pods: [Pod] = []
    public var networkPolicies: [NetworkPolicy] = []
    public var bulwarkPolicies: [BulwarkPolicy] = []
    public var services: [Service] = []
    public var endpointSlices: [EndpointSlice] = []
    public var diagnostics: [Diagnostic] = []
    /// Documents read, including those with problems and kinds the agent does not use.
    public var documentCount = 0

    public init() {}

    /// Loads every `.yaml`, `.yml` and `.json` file at `paths` (files, or directories searched recursively in name
    /// order). Policies are also validated, so their errors appear in `diagnostics` with the field's position.
    /// - Parameter skipping: names of subdirectories not to descend into (standalone mode writes `status/`), and
    ///   hidden files and directories are always skipped (editors' swap files).
    public static func load(_ paths: [String], skipping: Set<String> = []) -> ManifestSet {
        var set = ManifestSet()
        for file in paths.flatMap({ expand($0, skipping: skipping) }) {
            do {
                for document in try YAML.parseAll(contentsOf: file) where !document.value.isNull {
                    set.add(document, file: file)
                }
            } catch {
                set.diagnostics.append(Diagnostic(file: error.file ?? file, position: error.position, path: "", message: error.message))
            }
        }
        return set
    }

    /// Adds the objects of one parsed document (a `List` adds each item).
    public mutating func add(_ document: YAMLDocument, file: String) {
        documentCount += 1
        let value = document.value
        guard case .object(let object) = value else {
            report(document, file, [], "expected a Kubernetes object, found \(value.kindName)")
            return
        }
        if object["kind"]?.stringValue?.hasSuffix("List") == true, case .array(let items)? = object["items"] {
            for index in items.indices { add(items[index], at: [.key("items"), .index(index)], document, file) }
        } else {
            add(value, at: [], document, file)
        }
    }

    private mutating func add(_ value: JSONValue, at base: [PathComponent], _ document: YAMLDocument, _ file: String) {
        let kind = value["kind"]?.stringValue
        let apiVersion = value["apiVersion"]?.stringValue
        guard let kind, let apiVersion else {
            report(document, file, base, "missing apiVersion or kind")
            return
        }
        do throws(DecodingFailure) {
            switch (apiVersion, kind) {
            case (Namespace.apiVersion, Namespace.kind): namespaces.append(try decode(value))
            case (Pod.apiVersion, Pod.kind): pods.append(try decode(value))
            case (Service.apiVersion, Service.kind): services.append(try decode(value))
            case (EndpointSlice.apiVersion, EndpointSlice.kind): endpointSlices.append(try decode(value))
            case (NetworkPolicy.apiVersion, NetworkPolicy.kind):
                let policy: NetworkPolicy = try decode(value)
                networkPolicies.append(policy)
                for error in PolicyCompiler.validate(policy) { report(document, file, base, error) }
            case (BulwarkPolicy.apiVersion, BulwarkPolicy.kind):
                let policy: BulwarkPolicy = try decode(value)
                bulwarkPolicies.append(policy)
                for error in PolicyCompiler.validate(policy) { report(document, file, base, error) }
            case (_, NetworkPolicy.kind), (_, BulwarkPolicy.kind):
                report(document, file, base + [.key("apiVersion")], "unsupported apiVersion \"\(apiVersion)\" for \(kind)")
            default:
                break  // Other kinds (Deployments, ConfigMaps, ...) may share the files; they are not ours to judge.
            }
        } catch {
            report(document, file, base + error.path.components, error.message)
        }
    }

    private func decode<T: Decodable>(_ value: JSONValue) throws(DecodingFailure) -> T {
        try JSONValueDecoder().decode(T.self, from: value)
    }

    private mutating func report(_ document: YAMLDocument, _ file: String, _ base: [PathComponent], _ error: FieldError) {
        let steps: [PathComponent] = error.path.map {
            switch $0 {
            case .key(let key): .key(key)
            case .index(let index): .index(index)
            }
        }
        report(document, file, base + steps, error.message)
    }

    /// Records a problem at `path`, positioned at the deepest part of the path present in the file.
    private mutating func report(_ document: YAMLDocument, _ file: String, _ path: [PathComponent], _ message: String) {
        var located = path
        var position = document.position(of: FieldPath(located))
        while position == nil && !located.isEmpty {
            located.removeLast()
            position = document.position(of: FieldPath(located))
        }
        diagnostics.append(
            Diagnostic(
                file: file, position: position ?? document.start, path: path.isEmpty ? "" : FieldPath(path).description,
                message: message))
    }

    /// The snapshot the compiler reads.
    public func snapshot(node: String?) -> ClusterSnapshot {
        ClusterSnapshot(
            node: node, pods: pods, namespaces: namespaces, networkPolicies: networkPolicies,
            bulwarkPolicies: bulwarkPolicies)
    }

    private static func expand(_ path: String, skipping: Set<String>) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let entries = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
        return entries.filter { entry in
            let components = entry.split(separator: "/")
            guard !components.contains(where: { $0.hasPrefix(".") }) else { return false }
            guard components.dropLast().allSatisfy({ !skipping.contains(String($0)) }) else { return false }
            return entry.hasSuffix(".yaml") || entry.hasSuffix(".yml") || entry.hasSuffix(".json")
        }.sorted().map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
    }
}
