internal import CCurl
import Foundation
import Logging
import Synchronization

/// One HTTP request to the API server.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var contentType: String?
    var body: Data?
    /// Streaming requests (watches) are not limited by the client's request timeout.
    var streaming = false
    /// Overrides the client's request timeout (a watch allows its `timeoutSeconds` plus a margin, so a connection
    /// that died silently is noticed).
    var timeout: Duration?
}

struct HTTPResponse: Sendable {
    var status: Int
    /// Lower-cased header names.
    var headers: [String: String]
    var body: Data

    var isSuccess: Bool { (200..<300).contains(status) }

    /// The `Retry-After` header in seconds (the API server never sends the HTTP-date form).
    var retryAfter: Duration? { headers["retry-after"].flatMap { Int($0) }.map { .seconds($0) } }
}

/// Runs HTTP requests on libcurl: TLS, credentials, rate limit, retries of 429 and of 401 with rotated credentials.
///
/// Each transfer runs `curl_easy_perform` on a dedicated thread (never the cooperative pool) with a pooled easy
/// handle, so keep-alive connections and TLS sessions are reused. Task cancellation sets a flag that the
/// progress callback turns into an abort within libcurl's progress interval (well under a second while data flows,
/// at most about a second on an idle connection).
final class Transport: Sendable {
    private let config: ClientConfig
    private let credentials: CredentialProvider
    private let limiter: RateLimiter
    private let idleHandles = Mutex<[EasyHandle]>([])
    private let logger: Logger
    private static let maxIdleHandles = 16

    init(config: ClientConfig, logger: Logger) {
        self.config = config
        self.credentials = CredentialProvider(
            credentials: config.credentials, clientCertificate: config.clientCertificate)
        self.limiter = RateLimiter(qps: config.qps, burst: config.burst)
        self.logger = logger
        if config.insecureSkipTLSVerify {
            logger.warning(
                "TLS verification of the API server is disabled (insecure-skip-tls-verify)",
                metadata: ["server": "\(config.server)", "source": "\(config.source)"])
        }
    }

    /// Sends `request`, retrying 429 answers after `Retry-After` and a 401 once with refreshed credentials.
    /// Non-2xx answers are returned, not thrown; transport failures throw `KubeError.transport`.
    func send(_ request: HTTPRequest, sink: Transfer.Sink? = nil) async throws -> HTTPResponse {
        var retries = 0
        var refreshed = false
        while true {
            try await limiter.acquire()
            let response = try await perform(request, sink: sink)
            if response.status == 429 && retries < config.maxRetriesOnTooManyRequests {
                retries += 1
                let wait = response.retryAfter ?? .seconds(1)
                logger.debug("API server asked to slow down", metadata: ["retryAfter": "\(wait)"])
                try await Task.sleep(for: wait)
                continue
            }
            if response.status == 401 && credentials.canRefresh && !refreshed {
                refreshed = true
                credentials.invalidate()
                continue
            }
            return response
        }
    }

    private func perform(_ request: HTTPRequest, sink: Transfer.Sink?) async throws -> HTTPResponse {
        let transfer = Transfer(sink: sink)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                let thread = Thread { [self] in
                    continuation.resume(with: Result { try self.performBlocking(request, transfer) })
                }
                thread.name = "kubeclient-transfer"
                thread.start()
            }
        } onCancel: {
            transfer.cancel()
        }
    }

    private func performBlocking(_ request: HTTPRequest, _ transfer: Transfer) throws(KubeError) -> HTTPResponse {
        if transfer.isCancelled { throw .cancelled }
        let requestCredentials = try credentials.current()
        let handle = idleHandles.withLock { $0.popLast() } ?? EasyHandle()
        defer {
            idleHandles.withLock { handles in
                if handles.count < Self.maxIdleHandles { handles.append(handle) }
            }
        }
        do {
            try configure(handle, request, requestCredentials)
            try handle.attach(transfer)
            try handle.perform(url: request.url) { transfer.isCancelled }
        } catch {
            if error.kind == .cancelled { throw .cancelled }
            throw .transport(error)
        }
        return HTTPResponse(status: transfer.status, headers: transfer.headers, body: transfer.body)
    }

    private func configure(
        _ handle: EasyHandle, _ request: HTTPRequest, _ credentials: RequestCredentials
    ) throws(TransportError) {
        try handle.reset()
        try handle.set(CURLOPT_URL, string: request.url, "CURLOPT_URL")
        try handle.set(CURLOPT_CUSTOMREQUEST, string: request.method, "CURLOPT_CUSTOMREQUEST")
        try handle.set(CURLOPT_NOSIGNAL, 1, "CURLOPT_NOSIGNAL")
        try handle.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS), "CURLOPT_HTTP_VERSION")
        try handle.set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds(config.connectTimeout), "CURLOPT_CONNECTTIMEOUT_MS")
        if let timeout = request.timeout ?? (request.streaming ? nil : config.timeout) {
            try handle.set(CURLOPT_TIMEOUT_MS, milliseconds(timeout), "CURLOPT_TIMEOUT_MS")
        }
        // A watch can be silent for minutes, so a peer that vanished without closing (node loss, a NAT dropping the
        // flow) is only noticed by TCP keepalive: probes after 15 s idle, every 5 s, give up after the kernel's 9
        // (about 1 minute) instead of curl's 60 s + 9 x 60 s, which outlasted the watch's own 320 s timeout.
        try handle.set(CURLOPT_TCP_KEEPALIVE, 1, "CURLOPT_TCP_KEEPALIVE")
        try handle.set(CURLOPT_TCP_KEEPIDLE, 15, "CURLOPT_TCP_KEEPIDLE")
        try handle.set(CURLOPT_TCP_KEEPINTVL, 5, "CURLOPT_TCP_KEEPINTVL")
        try handle.set(CURLOPT_ACCEPT_ENCODING, string: "", "CURLOPT_ACCEPT_ENCODING")
        try handle.set(CURLOPT_USERAGENT, string: config.userAgent, "CURLOPT_USERAGENT")
        if config.insecureSkipTLSVerify {
            try handle.set(CURLOPT_SSL_VERIFYPEER, 0, "CURLOPT_SSL_VERIFYPEER")
            try handle.set(CURLOPT_SSL_VERIFYHOST, 0, "CURLOPT_SSL_VERIFYHOST")
        } else if let ca = config.certificateAuthority {
            // Trust exactly the configured CA, not the system store as well.
            try handle.set(CURLOPT_CAINFO_BLOB, blob: ca, "CURLOPT_CAINFO_BLOB")
            try handle.set(CURLOPT_CAPATH, string: nil, "CURLOPT_CAPATH")
        }
        if let certificate = credentials.clientCertificate {
            try handle.set(CURLOPT_SSLCERTTYPE, string: "PEM", "CURLOPT_SSLCERTTYPE")
            try handle.set(CURLOPT_SSLCERT_BLOB, blob: certificate.certificate, "CURLOPT_SSLCERT_BLOB")
            try handle.set(CURLOPT_SSLKEYTYPE, string: "PEM", "CURLOPT_SSLKEYTYPE")
            try handle.set(CURLOPT_SSLKEY_BLOB, blob: certificate.key, "CURLOPT_SSLKEY_BLOB")
        }
        var headers = [("Accept", "application/json"), ("Expect", "")]
        if let token = credentials.bearerToken {
            headers.append(("Authorization", "Bearer \(token)"))
        }
        if let contentType = request.contentType {
            headers.append(("Content-Type", contentType))
        }
        try handle.setHeaders(headers)
        if let body = request.body {
            try handle.setBody(body)
        }
    }

    private func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
