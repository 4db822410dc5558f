import Foundation
import KubeModel
import Logging

/// A connection to one Kubernetes API server; hand out typed `Api` values from it.
///
/// Usage:
/// ```swift
/// let client = KubeClient(config: try ClientConfig.load())
/// let pods = client.api(Pod.self, namespace: "default")
/// for try await event in pods.watch() { ... }
/// ```
/// One client per process is enough: it pools connections, limits its own request rate and is `Sendable`.
public final class KubeClient: Sendable {
    public let config: ClientConfig
    let transport: Transport
    let logger: Logger

    public init(config: ClientConfig, logger: Logger = Logger(label: "bulwark.kubeclient")) {
        self.config = config
        self.logger = logger
        self.transport = Transport(config: config, logger: logger)
    }

    /// Typed access to one resource kind.
    ///
    /// - Parameter namespace: For namespaced kinds, the namespace to work in; `nil` lists and watches all
    ///   namespaces and takes each object's own namespace for writes. Ignored for cluster-scoped kinds.
    public func api<T: KubeResource>(_ type: T.Type, namespace: String?) -> Api<T> {
        Api(client: self, namespace: T.namespaced ? namespace : nil)
    }

    /// Typed access in the configuration's default namespace (the kubeconfig context's or the pod's namespace).
    public func api<T: KubeResource>(_ type: T.Type) -> Api<T> {
        api(type, namespace: config.namespace)
    }

    func url(_ path: String, query: [(String, String)] = []) -> String {
        var url = config.server.hasSuffix("/") ? String(config.server.dropLast()) : config.server
        url += path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        }
        return url
    }

    /// Sends a request and decodes a 2xx body as `R`; any other status becomes the matching `KubeError`.
    func call<R: Decodable>(_ request: HTTPRequest, as type: R.Type) async throws -> R {
        let response = try await send(request)
        return try decode(R.self, from: response.body)
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await transport.send(request)
        guard response.isSuccess else {
            throw KubeError(httpStatus: response.status, body: response.body, retryAfter: response.retryAfter)
        }
        return response
    }

    func decode<R: Decodable>(_ type: R.Type, from body: Data) throws -> R {
        do {
            return try SkippingJSONDecoder().decode(R.self, from: body)
        } catch {
            throw KubeError.decoding("\(R.self): \(error)")
        }
    }

    private static let unreserved: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    static func percentEncode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            if unreserved.contains(byte) {
                out.append(Character(UnicodeScalar(byte)))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
