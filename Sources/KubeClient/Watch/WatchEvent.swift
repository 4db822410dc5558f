import Foundation
import KubeModel

/// One change notification from a watch.
public enum WatchEvent<T: KubeResource>: Sendable {
    case added(T)
    case modified(T)
    case deleted(T)
    /// The server has sent every change up to `resourceVersion`; resume from here after a disconnect.
    case bookmark(resourceVersion: String)

    /// The resourceVersion this event brings the watch to.
    public var resourceVersion: String? {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object): object.metadata.resourceVersion
        case .bookmark(let resourceVersion): resourceVersion
        }
    }
}

/// One line of a watch stream: `{"type": "...", "object": {...}}`, the object decoded according to the type.
struct WatchLine<T: KubeResource>: Decodable {
    enum Content {
        case event(WatchEvent<T>)
        case error(Status)
    }

    var content: Content

    private enum CodingKeys: String, CodingKey { case type, object }

    private struct BookmarkObject: Decodable {
        struct Meta: Decodable { var resourceVersion: String }
        var metadata: Meta
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ADDED": content = .event(.added(try container.decode(T.self, forKey: .object)))
        case "MODIFIED": content = .event(.modified(try container.decode(T.self, forKey: .object)))
        case "DELETED": content = .event(.deleted(try container.decode(T.self, forKey: .object)))
        case "BOOKMARK":
            let object = try container.decode(BookmarkObject.self, forKey: .object)
            content = .event(.bookmark(resourceVersion: object.metadata.resourceVersion))
        case "ERROR": content = .error(try container.decode(Status.self, forKey: .object))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown watch event type \(type)")
        }
    }
}

/// Options for `Api.watch`.
public struct WatchOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Start after this version (usually a list's). `nil` makes the server first send every existing object as
    /// ADDED.
    public var resourceVersion: String?
    /// How long the server keeps one watch request open before closing it (the stream then resumes).
    public var timeoutSeconds: Int
    public var allowBookmarks: Bool
    /// Reconnect from the last seen resourceVersion when the server ends the request normally.
    public var resumeOnClose: Bool

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
        timeoutSeconds: Int = 300, allowBookmarks: Bool = true, resumeOnClose: Bool = true
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.timeoutSeconds = timeoutSeconds
        self.allowBookmarks = allowBookmarks
        self.resumeOnClose = resumeOnClose
    }
}

/// The events of a watch as an `AsyncSequence`. Ends by throwing `KubeError` (`.gone` when the resourceVersion is
/// too old: relist), or normally when resuming is impossible. Dropping the iterator or cancelling the consuming task
/// aborts the HTTP transfer.
public struct WatchStream<T: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<T>
    let stream: AsyncThrowingStream<WatchEvent<T>, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<WatchEvent<T>, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}
