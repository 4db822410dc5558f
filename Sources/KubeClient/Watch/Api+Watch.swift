import Foundation
import KubeModel

extension Api {
    /// Watches changes, resuming from the last seen resourceVersion whenever the server ends a watch request.
    ///
    /// Events are framed and decoded on the transfer thread as bytes arrive. The stream throws `KubeError.gone`
    /// when the server no longer has the history to resume (ERROR event with code 410): list again and watch from
    /// the new list. Transport failures are thrown too; `KubeRuntime.Watcher` adds the backoff and relisting.
    public func watch(_ options: WatchOptions = WatchOptions()) -> WatchStream<T> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchEvent<T>.self)
        let task = Task { await runWatch(options, continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return WatchStream(stream: stream)
    }

    private func runWatch(
        _ options: WatchOptions, _ continuation: AsyncThrowingStream<WatchEvent<T>, any Error>.Continuation
    ) async {
        var resourceVersion = options.resourceVersion
        while !Task.isCancelled {
            var query = [("watch", "true"), ("timeoutSeconds", String(options.timeoutSeconds))]
            if options.allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
            if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
            if let selector = options.labelSelector { query.append(("labelSelector", selector)) }
            if let selector = options.fieldSelector { query.append(("fieldSelector", selector)) }
            let url = client.url(collectionPath(namespace: namespace), query: query)
            let request = HTTPRequest(method: "GET", url: url, streaming: true,
                                      timeout: .seconds(options.timeoutSeconds + 30))
            let decoder = WatchDecoder<T>(continuation: continuation, resourceVersion: resourceVersion)
            do {
                let response = try await client.transport.send(request) { decoder.consume($0) }
                guard response.isSuccess else {
                    throw KubeError(httpStatus: response.status, body: response.body, retryAfter: response.retryAfter)
                }
                if let failure = decoder.failure { throw failure }
            } catch {
                // A sink that stopped the transfer makes libcurl report a write error; the reason is the sink's.
                continuation.finish(throwing: decoder.failure ?? error)
                return
            }
            guard options.resumeOnClose, let last = decoder.resourceVersion else { break }
            resourceVersion = last
        }
        continuation.finish()
    }
}

/// Decodes one watch response into the stream; used only by the transfer thread running it.
final class WatchDecoder<T: KubeResource>: @unchecked Sendable {
    private var decoder = WatchEventDecoder<T>()
    private let continuation: AsyncThrowingStream<WatchEvent<T>, any Error>.Continuation
    private(set) var resourceVersion: String?
    private(set) var failure: KubeError?

    init(continuation: AsyncThrowingStream<WatchEvent<T>, any Error>.Continuation, resourceVersion: String?) {
        self.continuation = continuation
        self.resourceVersion = resourceVersion
    }

    /// Returns false to abort the transfer (an ERROR event or undecodable data ends this watch request).
    func consume(_ bytes: UnsafeRawBufferPointer) -> Bool {
        do {
            try decoder.feed(bytes) { event in
                if let version = event.resourceVersion { resourceVersion = version }
                continuation.yield(event)
            }
            return true
        } catch {
            failure = error as? KubeError ?? .decoding("\(error)")
            return false
        }
    }
}

extension KubeError {
    /// The error for a `Status` received inside a watch stream (its code says what happened).
    init(status: Status) {
        let body = (try? JSONEncoder().encode(status)) ?? Data()
        self.init(httpStatus: status.code ?? 500, body: body, retryAfter: nil)
    }
}
