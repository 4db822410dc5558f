import Foundation

/// Where and how to reach the API server: endpoint, trust, credentials, limits.
///
/// Build one with `ClientConfig.load()` (kubeconfig or in-cluster, like kubectl), `ClientConfig.inCluster()`,
/// `ClientConfig.kubeconfig(paths:context:)`, or directly for tests.
public struct ClientConfig: Sendable {
    /// Base URL, e.g. `https://10.96.0.1:443`.
    public var server: String
    /// PEM bundle the server certificate must chain to. `nil` uses the system trust store.
    public var certificateAuthority: Data?
    /// Skip server certificate verification. Only honoured when set explicitly; logged as a warning.
    public var insecureSkipTLSVerify: Bool
    /// Client certificate and key (PEM), passed to libcurl from memory.
    public var clientCertificate: ClientCertificate?
    /// How to obtain a bearer token, if any.
    public var credentials: Credentials
    /// Namespace used when a call does not name one.
    public var namespace: String
    /// Limit on a whole non-watch request.
    public var timeout: Duration
    public var connectTimeout: Duration
    /// Client-side rate limit: sustained requests per second, and the burst allowed on top.
    public var qps: Double
    public var burst: Int
    /// How many times a request answered 429 is retried after the server's `Retry-After`.
    public var maxRetriesOnTooManyRequests: Int
    public var userAgent: String
    /// Where this configuration came from, for error messages (`kubeconfig /path, context kind-kind`).
    public var source: String

    public init(
        server: String, certificateAuthority: Data? = nil, insecureSkipTLSVerify: Bool = false,
        clientCertificate: ClientCertificate? = nil, credentials: Credentials = .none, namespace: String = "default",
        timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10), qps: Double = 50,
        burst: Int = 100, maxRetriesOnTooManyRequests: Int = 5, userAgent: String = "bulwark/kubeclient",
        source: String = "explicit configuration"
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.clientCertificate = clientCertificate
        self.credentials = credentials
        self.namespace = namespace
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.qps = qps
        self.burst = burst
        self.maxRetriesOnTooManyRequests = maxRetriesOnTooManyRequests
        self.userAgent = userAgent
        self.source = source
    }
}

/// PEM-encoded client certificate chain and private key.
public struct ClientCertificate: Sendable, Hashable {
    public var certificate: Data
    public var key: Data

    public init(certificate: Data, key: Data) {
        self.certificate = certificate
        self.key = key
    }
}

/// Bearer-token sources.
public enum Credentials: Sendable {
    case none
    /// A fixed token (kubeconfig `token`).
    case token(String)
    /// A token file re-read whenever it changes (service-account projected tokens rotate hourly).
    case tokenFile(String)
    /// A client-go credential plugin (kubeconfig `exec`), run when its credential expires.
    case exec(ExecConfig)
}

/// A `client.authentication.k8s.io` exec credential plugin.
public struct ExecConfig: Sendable, Hashable {
    public var command: String
    public var arguments: [String]
    public var environment: [String: String]
    public var apiVersion: String
    /// Shown when the command cannot be run.
    public var installHint: String?

    public init(
        command: String, arguments: [String] = [], environment: [String: String] = [:],
        apiVersion: String = "client.authentication.k8s.io/v1", installHint: String? = nil
    ) {
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.apiVersion = apiVersion
        self.installHint = installHint
    }
}

/// A configuration that cannot be used, naming where and which field: `kubeconfig /p: users[0].user.token: ...`.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var field: String
    public var problem: String

    public init(source: String, field: String, problem: String) {
        self.source = source
        self.field = field
        self.problem = problem
    }

    public var description: String {
        field.isEmpty ? "\(source): \(problem)" : "\(source): \(field): \(problem)"
    }
}
