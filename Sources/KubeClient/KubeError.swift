import Foundation

/// Everything a Kubernetes API call can fail with.
///
/// Why one enum with the server's `Status` in each API case: callers branch on the kind (retry a conflict, relist on
/// gone, create on not-found) while logs and status conditions keep the server's own message and causes.
public enum KubeError: Error, Sendable, CustomStringConvertible {
    /// 404: the object (or its namespace) does not exist.
    case notFound(Status)
    /// 409 with reason AlreadyExists: create of an existing name.
    case alreadyExists(Status)
    /// 409: stale resourceVersion, failed precondition or a server-side apply field conflict (see `causes`).
    case conflict(Status)
    /// 410: the resourceVersion or continue token is older than the server's history; relist.
    case gone(Status)
    /// 403: authenticated but not allowed (RBAC).
    case forbidden(Status)
    /// 401: missing, expired or unknown credentials.
    case unauthorized(Status)
    /// 422: the object failed validation; `causes` name the fields.
    case invalid(Status)
    /// 429 after the retry budget was spent; `retryAfter` is the server's last hint.
    case tooManyRequests(Status, retryAfter: Duration?)
    /// 5xx.
    case server(Status)
    /// Any other 4xx (bad request, unsupported media type, method not allowed).
    case badRequest(Status)
    /// The request never got an HTTP answer: connection, TLS, timeout.
    case transport(TransportError)
    /// The server answered something this client could not decode.
    case decoding(String)
    /// The token file or exec credential plugin failed.
    case credentials(String)
    /// The task was cancelled while the request was in flight.
    case cancelled

    /// Classifies an HTTP error answer, decoding its `Status` body when there is one.
    init(httpStatus: Int, body: Data, retryAfter: Duration?) {
        let status = (try? JSONDecoder().decode(Status.self, from: body))
            ?? Status(code: httpStatus, reason: nil, message: String(decoding: body.prefix(512), as: UTF8.self))
        switch httpStatus {
        case 401: self = .unauthorized(status)
        case 403: self = .forbidden(status)
        case 404: self = .notFound(status)
        case 409: self = status.reason == "AlreadyExists" ? .alreadyExists(status) : .conflict(status)
        case 410: self = .gone(status)
        case 422: self = .invalid(status)
        case 429:
            let hint = retryAfter ?? status.details?.retryAfterSeconds.map { Duration.seconds($0) }
            self = .tooManyRequests(status, retryAfter: hint)
        case 500...: self = .server(status)
        default: self = .badRequest(status)
        }
    }

    /// The server's `Status`, for errors that came with one.
    public var status: Status? {
        switch self {
        case .notFound(let s), .alreadyExists(let s), .conflict(let s), .gone(let s), .forbidden(let s),
            .unauthorized(let s), .invalid(let s), .tooManyRequests(let s, _), .server(let s), .badRequest(let s):
            s
        case .transport, .decoding, .credentials, .cancelled:
            nil
        }
    }

    /// The server's message, or the transport's.
    public var message: String {
        switch self {
        case .transport(let error): error.message
        case .decoding(let message), .credentials(let message): message
        case .cancelled: "cancelled"
        default: status?.message ?? ""
        }
    }

    /// Field-level causes (validation errors, apply conflicts).
    public var causes: [StatusCause] { status?.details?.causes ?? [] }

    public var description: String {
        switch self {
        case .transport(let error): error.description
        case .decoding(let message): "decoding the API response failed: \(message)"
        case .credentials(let message): "obtaining credentials failed: \(message)"
        case .cancelled: "request cancelled"
        default:
            "\(status?.code ?? 0) \(status?.reason ?? "Error"): \(message)"
        }
    }
}

/// A failure below HTTP: the connection, TLS or a timeout.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Certificate verification, handshake or client-certificate problems.
        case tls
        /// Could not connect, or the connection broke.
        case connection
        case timeout
        case cancelled
        case other
    }

    public var kind: Kind
    public var message: String
    public var url: String
    /// The libcurl result code, for bug reports.
    public var curlCode: Int

    public init(kind: Kind, message: String, url: String, curlCode: Int = 0) {
        self.kind = kind
        self.message = message
        self.url = url
        self.curlCode = curlCode
    }

    public var description: String {
        let what = kind == .tls ? "TLS error" : "transport error"
        return url.isEmpty ? "\(what): \(message)" : "\(what) talking to \(url): \(message)"
    }
}

/// The `Status` kind the API server returns with every failure (api-conventions.md "Response Status Kind").
public struct Status: Codable, Sendable, Hashable {
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
    public var details: StatusDetails?

    public init(code: Int?, reason: String?, message: String?, details: StatusDetails? = nil) {
        self.status = "Failure"
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }
}

public struct StatusDetails: Codable, Sendable, Hashable {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]?
    public var retryAfterSeconds: Int?
}

/// One reason a request failed, usually tied to a field (`metadata.name`, `.status.nodes[name="a"].ready`).
public struct StatusCause: Codable, Sendable, Hashable {
    public var reason: String?
    public var message: String?
    public var field: String?
}
