import Foundation

extension ClientConfig {
    /// The default service-account mount of a pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Configuration for a process running in a pod: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service-account token
    /// (re-read when it rotates), CA bundle and namespace files.
    ///
    /// - Parameters:
    ///   - environment: Where to read `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` (tests pass their own).
    ///   - serviceAccountDirectory: Folder holding `token`, `ca.crt` and `namespace`.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = ClientConfig.serviceAccountDirectory
    ) throws(ConfigurationError) -> ClientConfig {
        let source = "in-cluster configuration"
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw ConfigurationError(source: source, field: "KUBERNETES_SERVICE_HOST", problem: "not set")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], let portNumber = UInt16(port) else {
            throw ConfigurationError(source: source, field: "KUBERNETES_SERVICE_PORT",
                                     problem: "not set or not a port number")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw ConfigurationError(source: source, field: tokenPath, problem: "service-account token not readable")
        }
        let caPath = serviceAccountDirectory + "/ca.crt"
        guard let ca = FileManager.default.contents(atPath: caPath), !ca.isEmpty else {
            throw ConfigurationError(source: source, field: caPath, problem: "CA bundle missing or empty")
        }
        let namespace = FileManager.default.contents(atPath: serviceAccountDirectory + "/namespace")
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return ClientConfig(
            server: "https://\(hostPart):\(portNumber)", certificateAuthority: ca,
            credentials: .tokenFile(tokenPath), namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            source: source
        )
    }
}
