import Foundation
import KubeModel

/// Typed requests for one resource kind in one namespace (or all namespaces, or cluster scope).
///
/// Every method throws `KubeError`: API failures carry the server's `Status`, so callers can match on
/// `.notFound`, `.conflict`, `.gone`… and still log the server's message.
public struct Api<T: KubeResource>: Sendable {
    let client: KubeClient
    /// `nil`: all namespaces (list, watch) or each object's own namespace (writes).
    public let namespace: String?

    init(client: KubeClient, namespace: String?) {
        self.client = client
        self.namespace = namespace
    }

    // MARK: Paths

    private var prefix: String {
        T.group.isEmpty ? "/api/\(T.version)" : "/apis/\(T.group)/\(T.version)"
    }

    func collectionPath(namespace: String?) -> String {
        if T.namespaced, let namespace { return "\(prefix)/namespaces/\(namespace)/\(T.plural)" }
        return "\(prefix)/\(T.plural)"
    }

    private func itemPath(_ name: String, namespace: String?, _ subresource: Subresource?) throws -> String {
        guard !name.isEmpty else { throw KubeError.badRequest(Status(code: 400, reason: "BadRequest",
                                                                     message: "\(T.kind) name is empty")) }
        let namespace = namespace ?? self.namespace
        if T.namespaced && namespace == nil {
            throw KubeError.badRequest(Status(
                code: 400, reason: "BadRequest", message: "\(T.kind) \(name) is namespaced: a namespace is required"))
        }
        let path = collectionPath(namespace: namespace) + "/" + KubeClient.percentEncode(name)
        return subresource.map { "\(path)/\($0.rawValue)" } ?? path
    }

    private func body(_ value: some Encodable) throws -> Data {
        do {
            return try JSONEncoder().encode(TypedBody(apiVersion: T.apiVersion, kind: T.kind, value: value))
        } catch {
            throw KubeError.decoding("encoding \(T.kind): \(error)")
        }
    }

    // MARK: Reads

    /// Reads one object (or its status subresource).
    public func get(_ name: String, subresource: Subresource? = nil) async throws -> T {
        let url = client.url(try itemPath(name, namespace: nil, subresource))
        return try await client.call(HTTPRequest(method: "GET", url: url), as: T.self)
    }

    /// Reads one object, `nil` when it does not exist.
    public func getIfPresent(_ name: String) async throws -> T? {
        do {
            return try await get(name)
        } catch KubeError.notFound {
            return nil
        }
    }

    /// Lists one page. Follow `continueToken` for the next page, or use `listAll`.
    public func list(_ options: ListOptions = ListOptions()) async throws -> ObjectList<T> {
        let url = client.url(collectionPath(namespace: namespace), query: options.query)
        return try await client.call(HTTPRequest(method: "GET", url: url), as: ObjectList<T>.self)
    }

    /// Lists every page; the result's resourceVersion is the first page's, the point to watch from.
    public func listAll(_ options: ListOptions = ListOptions(), pageSize: Int = 500) async throws -> ObjectList<T> {
        var options = options
        options.limit = pageSize
        var result = try await list(options)
        while let token = result.continueToken {
            options.continueToken = token
            options.resourceVersion = nil
            let page = try await list(options)
            result.items += page.items
            result.continueToken = page.continueToken
        }
        return result
    }

    // MARK: Writes

    /// Creates `object` in this Api's namespace (or the object's own when the Api spans all namespaces).
    public func create(_ object: T) async throws -> T {
        let namespace = object.metadata.namespace ?? self.namespace
        if T.namespaced && namespace == nil {
            throw KubeError.badRequest(Status(code: 400, reason: "BadRequest",
                                              message: "\(T.kind) \(object.metadata.name) needs a namespace"))
        }
        let url = client.url(collectionPath(namespace: namespace))
        let request = HTTPRequest(method: "POST", url: url, contentType: "application/json", body: try body(object))
        return try await client.call(request, as: T.self)
    }

    /// Replaces `object`. With `metadata.resourceVersion` set, a concurrent change answers `.conflict`.
    /// With `subresource: .status`, only the status is written.
    public func update(_ object: T, subresource: Subresource? = nil) async throws -> T {
        let path = try itemPath(object.metadata.name, namespace: object.metadata.namespace, subresource)
        let request = HTTPRequest(method: "PUT", url: client.url(path), contentType: "application/json",
                                  body: try body(object))
        return try await client.call(request, as: T.self)
    }

    /// Deletes an object; `resourceVersion`/`uid` preconditions make it conditional (`.conflict` on mismatch).
    public func delete(_ name: String, resourceVersion: String? = nil, uid: String? = nil) async throws {
        var preconditions: [String: String] = [:]
        if let resourceVersion { preconditions["resourceVersion"] = resourceVersion }
        if let uid { preconditions["uid"] = uid }
        let options = DeleteOptions(preconditions: preconditions.isEmpty ? nil : preconditions)
        let request = HTTPRequest(method: "DELETE", url: client.url(try itemPath(name, namespace: nil, nil)),
                                  contentType: "application/json", body: try JSONEncoder().encode(options))
        _ = try await client.send(request)
    }

    /// Applies a merge or JSON patch.
    public func patch(_ name: String, _ patch: Patch, subresource: Subresource? = nil) async throws -> T {
        let request = HTTPRequest(method: "PATCH", url: client.url(try itemPath(name, namespace: nil, subresource)),
                                  contentType: patch.contentType, body: patch.body)
        return try await client.call(request, as: T.self)
    }

    /// Server-side apply: `configuration` holds exactly the fields `fieldManager` wants to own; fields it owned
    /// before and leaves out are removed, fields others own are left alone. A field another manager owns with a
    /// different value is a `.conflict` (its causes name field and owner) unless `force` takes it over.
    ///
    /// - Parameters:
    ///   - configuration: A partial object (`apiVersion` and `kind` are added); sent as JSON, which is YAML.
    ///   - subresource: `.status` to apply to the status (the status subresource ignores everything else).
    public func apply(
        _ name: String, configuration: some Encodable & Sendable, fieldManager: String, force: Bool = false,
        subresource: Subresource? = nil
    ) async throws -> T {
        var query = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        let url = client.url(try itemPath(name, namespace: nil, subresource), query: query)
        let request = HTTPRequest(method: "PATCH", url: url, contentType: "application/apply-patch+yaml",
                                  body: try body(configuration))
        return try await client.call(request, as: T.self)
    }
}

private struct DeleteOptions: Encodable {
    var apiVersion = "v1"
    var kind = "DeleteOptions"
    var preconditions: [String: String]?
}
