import Foundation
import Synchronization

/// The credentials for one request: bearer token and/or client certificate.
struct RequestCredentials: Sendable {
    var bearerToken: String?
    var clientCertificate: ClientCertificate?
}

/// Turns `Credentials` into the token of the moment: file tokens are re-read when the file changes, exec plugin
/// results are cached until their `expirationTimestamp`.
///
/// Called on transfer threads (it may read files or run a process), never on the cooperative pool.
final class CredentialProvider: Sendable {
    private struct FileState {
        var token: String?
        var modified: timespec = timespec()
        var size: Int = -1
    }

    private struct ExecState {
        var credentials: RequestCredentials?
        var expires: Date?
    }

    private let credentials: Credentials
    private let clientCertificate: ClientCertificate?
    private let fileState = Mutex(FileState())
    private let execState = Mutex(ExecState())

    init(credentials: Credentials, clientCertificate: ClientCertificate?) {
        self.credentials = credentials
        self.clientCertificate = clientCertificate
    }

    /// Whether a 401 may be cured by fetching the credential again.
    var canRefresh: Bool {
        switch credentials {
        case .tokenFile, .exec: true
        case .none, .token: false
        }
    }

    func current() throws(KubeError) -> RequestCredentials {
        switch credentials {
        case .none:
            return RequestCredentials(clientCertificate: clientCertificate)
        case .token(let token):
            return RequestCredentials(bearerToken: token, clientCertificate: clientCertificate)
        case .tokenFile(let path):
            return RequestCredentials(bearerToken: try fileToken(path), clientCertificate: clientCertificate)
        case .exec(let config):
            var result = try execCredentials(config)
            if result.clientCertificate == nil { result.clientCertificate = clientCertificate }
            return result
        }
    }

    /// Forgets cached credentials (after a 401) so the next request fetches fresh ones.
    func invalidate() {
        fileState.withLock { $0 = FileState() }
        execState.withLock { $0 = ExecState() }
    }

    private func fileToken(_ path: String) throws(KubeError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .credentials("token file \(path): \(String(cString: strerror(errno)))")
        }
        let cached: String? = fileState.withLock { state in
            let same = state.size == Int(info.st_size) && state.modified.tv_sec == info.st_mtim.tv_sec
                && state.modified.tv_nsec == info.st_mtim.tv_nsec
            return same ? state.token : nil
        }
        if let cached { return cached }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .credentials("token file \(path): cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .credentials("token file \(path): empty") }
        fileState.withLock { $0 = FileState(token: token, modified: info.st_mtim, size: Int(info.st_size)) }
        return token
    }

    private func execCredentials(_ config: ExecConfig) throws(KubeError) -> RequestCredentials {
        let cached: RequestCredentials? = execState.withLock { state in
            guard let credentials = state.credentials else { return nil }
            if let expires = state.expires, expires <= Date() { return nil }
            return credentials
        }
        if let cached { return cached }
        let (credentials, expires) = try ExecPlugin.run(config)
        execState.withLock { $0 = ExecState(credentials: credentials, expires: expires) }
        return credentials
    }
}
