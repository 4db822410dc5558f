import KubeClient
import KubeModel
import Logging

/// What a watcher reports. A (re)list is bracketed by `initStart` … `initObject`* … `initDone`, so a store can
/// build the new state aside and swap it in at once; afterwards single changes arrive as `applied`/`deleted`.
public enum WatcherEvent<T: KubeResource>: Sendable {
    case initStart
    case initObject(T)
    case initDone
    case applied(T)
    case deleted(T)
}

/// Options for `Watcher`.
public struct WatcherConfig: Sendable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Page size of the initial list and of relists.
    public var pageSize: Int
    /// Server-side lifetime of one watch request (the client resumes transparently).
    public var watchTimeoutSeconds: Int
    public var backoff: Backoff

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, pageSize: Int = 500,
        watchTimeoutSeconds: Int = 290, backoff: Backoff = Backoff()
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.pageSize = pageSize
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.backoff = backoff
    }
}

/// List-then-watch as an explicit state machine (kube-rs `watcher`): Empty → InitPage (paged list) → InitListed →
/// Watching. A 410 Gone relists at once; any other failure waits a jittered exponential backoff (reset after
/// every success) and retries from the last resourceVersion. It never ends by itself: iteration stops only when the
/// consuming task is cancelled, so errors are logged, not thrown.
///
/// Deletions that happened while the watch was broken are not events of the server; they show up as objects
/// missing from the relist. `Store` reports them as deleted when it swaps in the relist (see `Store.apply`).
public struct Watcher<T: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatcherEvent<T>

    let api: Api<T>
    let config: WatcherConfig
    let logger: Logger

    public init(
        api: Api<T>, config: WatcherConfig = WatcherConfig(), logger: Logger = Logger(label: "bulwark.watcher")
    ) {
        self.api = api
        self.config = config
        self.logger = logger
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(api: api, config: config, logger: logger)
    }

    enum State {
        /// Nothing known: the next step starts a list.
        case empty
        /// Listing: `pending` items of the fetched page still to emit, then the page at `next`, which `prefetch`
        /// may already be fetching (the next page travels while this one is consumed).
        case initPage(
            next: PageCursor, resourceVersion: String?, pending: ArraySlice<T>,
            prefetch: Task<ObjectList<T>, any Error>?)
        /// Listed (or the watch ended): the next step opens a watch from `resourceVersion`.
        case initListed(resourceVersion: String)
        case watching(resourceVersion: String, events: WatchStream<T>.AsyncIterator)
    }

    enum PageCursor {
        case first
        case token(String)
        case done
    }

    public struct Iterator: AsyncIteratorProtocol {
        let api: Api<T>
        let config: WatcherConfig
        let logger: Logger
        var state = State.empty
        var backoff: Backoff

        init(api: Api<T>, config: WatcherConfig, logger: Logger) {
            self.api = api
            self.config = config
            self.logger = logger
            self.backoff = config.backoff
        }

        public mutating func next() async -> WatcherEvent<T>? {
            while !Task.isCancelled {
                if let event = await step() { return event }
            }
            return nil
        }

        /// One transition; returns the event it produced, if any.
        mutating func step() async -> WatcherEvent<T>? {
            switch state {
            case .empty:
                state = .initPage(next: .first, resourceVersion: nil, pending: [], prefetch: nil)
                return .initStart

            case .initPage(let next, let resourceVersion, var pending, let prefetch):
                if let object = pending.popFirst() {
                    state = .initPage(next: next, resourceVersion: resourceVersion, pending: pending,
                                      prefetch: prefetch)
                    return .initObject(object)
                }
                if case .done = next, let resourceVersion {
                    state = .initListed(resourceVersion: resourceVersion)
                    return .initDone
                }
                do {
                    let page: ObjectList<T>
                    if let prefetch {
                        page = try await prefetch.value
                    } else {
                        page = try await api.list(listOptions(next))
                    }
                    backoff.reset()
                    let following: PageCursor = page.continueToken.map { .token($0) } ?? .done
                    var nextFetch: Task<ObjectList<T>, any Error>?
                    if case .token = following {
                        let (api, options) = (api, listOptions(following))
                        nextFetch = Task { try await api.list(options) }
                    }
                    state = .initPage(next: following, resourceVersion: resourceVersion ?? page.resourceVersion,
                                      pending: page.items[...], prefetch: nextFetch)
                } catch KubeError.gone {
                    logger.info("continue token expired during the list; listing again", metadata: meta)
                    state = .empty
                } catch {
                    await pause(after: error, "listing")
                    state = .initPage(next: next, resourceVersion: resourceVersion, pending: [], prefetch: nil)
                }
                return nil

            case .initListed(let resourceVersion):
                let options = WatchOptions(
                    labelSelector: config.labelSelector, fieldSelector: config.fieldSelector,
                    resourceVersion: resourceVersion, timeoutSeconds: config.watchTimeoutSeconds)
                state = .watching(resourceVersion: resourceVersion, events: api.watch(options).makeAsyncIterator())
                return nil

            case .watching(let resourceVersion, var events):
                do {
                    guard let event = try await events.next() else {
                        state = .initListed(resourceVersion: resourceVersion)
                        return nil
                    }
                    backoff.reset()
                    state = .watching(resourceVersion: event.resourceVersion ?? resourceVersion, events: events)
                    switch event {
                    case .added(let object), .modified(let object): return .applied(object)
                    case .deleted(let object): return .deleted(object)
                    case .bookmark: return nil
                    }
                } catch KubeError.gone {
                    logger.info("resourceVersion \(resourceVersion) expired; relisting", metadata: meta)
                    state = .empty
                } catch {
                    await pause(after: error, "watching")
                    state = .initListed(resourceVersion: resourceVersion)
                }
                return nil
            }
        }

        private var meta: Logger.Metadata { ["resource": "\(T.plural)"] }

        private func listOptions(_ cursor: PageCursor) -> ListOptions {
            var options = ListOptions(labelSelector: config.labelSelector, fieldSelector: config.fieldSelector,
                                      limit: config.pageSize)
            if case .token(let token) = cursor { options.continueToken = token }
            return options
        }

        private mutating func pause(after error: any Error, _ what: String) async {
            let delay = backoff.next()
            let milliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
            logger.warning("\(what) \(T.plural) failed; retrying in \(milliseconds) ms", metadata: meta.merging(
                ["error": "\(error)"]) { $1 })
            try? await Task.sleep(for: delay)
        }
    }
}
