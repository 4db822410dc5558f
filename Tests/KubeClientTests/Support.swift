import BulwarkTesting
import Foundation
import KubeClient

extension TestAPIServer {
    /// A client authenticating with the server's bearer token and trusting its CA.
    func client(maxRetriesOnTooManyRequests: Int = 5, timeout: Duration = .seconds(30)) -> KubeClient {
        KubeClient(config: ClientConfig(
            server: url, certificateAuthority: certificateAuthority, credentials: .token(token), timeout: timeout,
            qps: 0, maxRetriesOnTooManyRequests: maxRetriesOnTooManyRequests))
    }
}

/// Runs `body` and returns the `KubeError` it throws (nil when it does not throw one).
func kubeError(_ body: () async throws -> Void) async -> KubeError? {
    do {
        try await body()
        return nil
    } catch let error as KubeError {
        return error
    } catch {
        return nil
    }
}
