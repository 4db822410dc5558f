import Foundation
import KubeModel

/// Decodes a newline-delimited watch response incrementally: feed bytes as they arrive, get whole events.
///
/// Used by `Api.watch` on its transfer thread; public so tools and benchmarks can replay recorded streams.
public struct WatchEventDecoder<T: KubeResource> {
    private var framer: LineFramer
    private let decoder = SkippingJSONDecoder()

    /// - Parameter maxEventSize: Largest single event accepted (objects up to etcd's 1.5 MiB limit, with margin).
    public init(maxEventSize: Int = 64 << 20) {
        framer = LineFramer(maxLineLength: maxEventSize)
    }

    /// Feeds `bytes`, calling `handler` for each complete event.
    ///
    /// - Throws: `KubeError` for an `ERROR` event (`.gone` for 410) or for data that is not a watch event.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ handler: (WatchEvent<T>) throws -> Void
    ) throws {
        do {
            try framer.push(bytes) { line in
                let decoded = try decoder.decode(WatchLine<T>.self, from: line)
                switch decoded.content {
                case .event(let event): try handler(event)
                case .error(let status): throw KubeError(status: status)
                }
            }
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError.decoding("watch event of \(T.kind): \(error)")
        }
    }
}
