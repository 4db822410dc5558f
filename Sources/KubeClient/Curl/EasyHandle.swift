internal import CCurl
internal import CurlShims
import Foundation

/// Owns one libcurl easy handle; freed in `deinit`.
///
/// Why a class per handle: libcurl keeps the connection cache, TLS session cache and DNS cache inside the easy handle,
/// so a handle reused for the next request (after `curl_easy_reset`, which keeps those caches) reuses the
/// connection. A handle is used by one thread at a time (the transport's pool hands it out exclusively).
final class EasyHandle: @unchecked Sendable {
    private let raw: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init() {
        Self.globalInit
        guard let raw = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(raw)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Clears the previous request's options; connections and caches stay for reuse.
    func reset() throws(TransportError) {
        curl_easy_reset(raw)
        curl_slist_free_all(headerList)
        headerList = nil
        errorBuffer[0] = 0
        try check(bulwark_curl_setopt_ptr(raw, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
    }

    func set(_ option: CURLoption, _ value: Int, _ name: String) throws(TransportError) {
        try check(bulwark_curl_setopt_long(raw, option, value), name)
    }

    func set(_ option: CURLoption, string value: String?, _ name: String) throws(TransportError) {
        // libcurl copies string options (since 7.17), so the temporary C string may go away afterwards.
        let code = value.map { $0.withCString { bulwark_curl_setopt_ptr(raw, option, $0) } }
            ?? bulwark_curl_setopt_ptr(raw, option, nil)
        try check(code, name)
    }

    func set(_ option: CURLoption, blob: Data, _ name: String) throws(TransportError) {
        let code = blob.withUnsafeBytes { bulwark_curl_setopt_blob(raw, option, $0.baseAddress, $0.count) }
        try check(code, name)
    }

    func setBody(_ body: Data) throws(TransportError) {
        try check(bulwark_curl_setopt_int64(raw, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)),
                  "CURLOPT_POSTFIELDSIZE_LARGE")
        // COPYPOSTFIELDS: libcurl keeps its own copy, so the body's lifetime is not tied to the perform call.
        let code = body.withUnsafeBytes { bytes in
            bulwark_curl_setopt_ptr(raw, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(errorBuffer))
        }
        try check(code, "CURLOPT_COPYPOSTFIELDS")
    }

    func setHeaders(_ headers: [(String, String)]) throws(TransportError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        headerList = list
        try check(bulwark_curl_setopt_ptr(raw, CURLOPT_HTTPHEADER, list), "CURLOPT_HTTPHEADER")
    }

    /// Installs the callbacks that route data, headers and progress to `transfer`.
    ///
    /// - Important: `transfer` must stay alive until `perform` returns; the caller holds it.
    func attach(_ transfer: Transfer) throws(TransportError) {
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        try check(bulwark_curl_setopt_write_callback(raw, transferWrite), "CURLOPT_WRITEFUNCTION")
        try check(bulwark_curl_setopt_ptr(raw, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        try check(bulwark_curl_setopt_header_callback(raw, transferHeader), "CURLOPT_HEADERFUNCTION")
        try check(bulwark_curl_setopt_ptr(raw, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
        try check(bulwark_curl_setopt_xferinfo_callback(raw, transferProgress), "CURLOPT_XFERINFOFUNCTION")
        try check(bulwark_curl_setopt_ptr(raw, CURLOPT_XFERINFODATA, context), "CURLOPT_XFERINFODATA")
        try set(CURLOPT_NOPROGRESS, 0, "CURLOPT_NOPROGRESS")
    }

    /// Runs the transfer on the calling thread (blocking); the single place a `CURLcode` becomes a Swift error.
    func perform(url: String, cancelled: () -> Bool) throws(TransportError) {
        let code = curl_easy_perform(raw)
        guard code != CURLE_OK else { return }
        if cancelled() {
            throw TransportError(kind: .cancelled, message: "request cancelled", url: url)
        }
        throw TransportError(code: code, detail: String(cString: errorBuffer), url: url)
    }

    private func check(_ code: CURLcode, _ option: String) throws(TransportError) {
        guard code == CURLE_OK else {
            throw TransportError(code: code, detail: "setting \(option)", url: "")
        }
    }
}

extension TransportError {
    /// Maps a libcurl result to an error kind callers can act on (TLS problems are never retried blindly).
    init(code: CURLcode, detail: String, url: String) {
        let kind: Kind
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_INITFAILED:
            kind = .tls
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
            CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            kind = .connection
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timeout
        default:
            kind = .other
        }
        let summary = String(cString: curl_easy_strerror(code))
        let message = detail.isEmpty || detail == summary ? summary : "\(summary): \(detail)"
        self.init(kind: kind, message: message, url: url, curlCode: Int(code.rawValue))
    }
}
