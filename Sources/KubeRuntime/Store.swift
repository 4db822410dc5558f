import KubeModel
import Synchronization

/// A change of the store's content, as produced by `Store.apply`.
public enum StoreChange<T: KubeResource>: Sendable {
    /// Added or changed.
    case applied(T)
    /// Removed: by a watch event, or found missing when a relist was swapped in.
    case deleted(T)
    /// A complete list was swapped in; the store is consistent and ready.
    case ready
}

/// The cache of one resource kind, filled from a `Watcher`, indexed by namespace (and optionally by label keys).
///
/// The store builds a (re)list aside and swaps it in atomically at `initDone`; before the first swap `isReady` is
/// false and readers must not act on the content ("never program BPF from a half-filled cache"). At each swap it
/// diffs old against new content, so objects deleted while the watch was broken are reported deleted.
///
/// Memory: the store keeps `T` as decoded, so a resource type that declares only the fields the agent uses keeps
/// the cache small. Each object is boxed: a dictionary's buckets are a power of two up to twice the count, and
/// empty buckets of an inline struct the size of a Pod would cost as much as a tenth of the agent's heap.
/// Label lookups scan the namespace unless the label key is indexed (`indexedLabelKeys`).
public final class Store<T: KubeResource>: Sendable {
    private final class Cached: Sendable {
        let object: T
        init(_ object: T) { self.object = object }
    }

    private struct State {
        var objects: [ObjectKey: Cached] = [:]
        var byNamespace: [String: Set<ObjectKey>] = [:]
        var byLabel: [String: [String: Set<ObjectKey>]] = [:]
        var building: [ObjectKey: Cached]?
        var ready = false
        var readyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let indexedLabelKeys: Set<String>

    /// - Parameter indexedLabelKeys: Label keys to index for `list(matching:)` (e.g. `["app"]`).
    public init(indexedLabelKeys: Set<String> = []) {
        self.indexedLabelKeys = indexedLabelKeys
    }

    /// True once the first complete list has been swapped in.
    public var isReady: Bool { state.withLock { $0.ready } }

    public var count: Int { state.withLock { $0.objects.count } }

    /// Waits until the first complete list has been swapped in.
    public func waitUntilReady() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let readyNow = state.withLock { state in
                if state.ready { return true }
                state.readyWaiters.append(continuation)
                return false
            }
            if readyNow { continuation.resume() }
        }
    }

    public func get(_ key: ObjectKey) -> T? {
        state.withLock { $0.objects[key]?.object }
    }

    /// All objects, or those of one namespace, optionally filtered by equality on labels.
    public func list(namespace: String? = nil, matching labels: [String: String] = [:]) -> [T] {
        state.withLock { state in
            var keys: Set<ObjectKey>?
            if let namespace { keys = state.byNamespace[namespace] ?? [] }
            for (key, value) in labels where indexedLabelKeys.contains(key) {
                let indexed = state.byLabel[key]?[value] ?? []
                keys = keys.map { $0.intersection(indexed) } ?? indexed
            }
            let candidates = keys.map { $0.compactMap { state.objects[$0]?.object } } ?? state.objects.values.map(\.object)
            guard !labels.isEmpty else { return candidates }
            return candidates.filter { object in
                labels.allSatisfy { object.metadata.labels?[$0.key] == $0.value }
            }
        }
    }

    /// Applies one watcher event and returns what changed in the visible content.
    @discardableResult
    public func apply(_ event: WatcherEvent<T>) -> [StoreChange<T>] {
        let (changes, waiters): ([StoreChange<T>], [CheckedContinuation<Void, Never>]) = state.withLock { state in
            switch event {
            case .initStart:
                state.building = [:]
                return ([], [])
            case .initObject(let object):
                if state.building == nil { state.building = [:] }
                state.building?[object.key] = Cached(object)
                return ([], [])
            case .initDone:
                let fresh = state.building ?? [:]
                state.building = nil
                var changes: [StoreChange<T>] = []
                for (key, old) in state.objects where fresh[key] == nil {
                    changes.append(.deleted(old.object))
                }
                for (key, new) in fresh {
                    let old = state.objects[key]?.object
                    if old == nil || old?.metadata.resourceVersion != new.object.metadata.resourceVersion {
                        changes.append(.applied(new.object))
                    }
                }
                state.objects = fresh
                rebuildIndexes(&state)
                changes.append(.ready)
                state.ready = true
                let waiters = state.readyWaiters
                state.readyWaiters = []
                return (changes, waiters)
            case .applied(let object):
                if let old = state.objects[object.key] { unindex(old.object, &state) }
                state.objects[object.key] = Cached(object)
                index(object, &state)
                return ([.applied(object)], [])
            case .deleted(let object):
                guard let old = state.objects.removeValue(forKey: object.key) else { return ([], []) }
                unindex(old.object, &state)
                return ([.deleted(object)], [])
            }
        }
        for waiter in waiters { waiter.resume() }
        return changes
    }

    private func rebuildIndexes(_ state: inout State) {
        state.byNamespace = [:]
        state.byLabel = [:]
        for cached in state.objects.values { index(cached.object, &state) }
    }

    private func index(_ object: T, _ state: inout State) {
        let key = object.key
        state.byNamespace[key.namespace ?? "", default: []].insert(key)
        for (label, value) in object.metadata.labels ?? [:] where indexedLabelKeys.contains(label) {
            state.byLabel[label, default: [:]][value, default: []].insert(key)
        }
    }

    private func unindex(_ object: T, _ state: inout State) {
        let key = object.key
        state.byNamespace[key.namespace ?? ""]?.remove(key)
        if state.byNamespace[key.namespace ?? ""]?.isEmpty == true { state.byNamespace[key.namespace ?? ""] = nil }
        for (label, value) in object.metadata.labels ?? [:] where indexedLabelKeys.contains(label) {
            state.byLabel[label]?[value]?.remove(key)
        }
    }
}

/// Drives a watcher into a store and yields the store's changes: the informer of this runtime.
///
/// Usage:
/// ```swift
/// let pods = Store<Pod>()
/// for await change in Reflector(watcher: Watcher(api: client.api(Pod.self, namespace: nil)), store: pods) { ... }
/// ```
public struct Reflector<T: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = StoreChange<T>
    public let watcher: Watcher<T>
    public let store: Store<T>
    let transform: @Sendable (T) -> T

    /// - Parameter transform: applied to every object before it is cached (client-go's `SetTransform`): drops
    ///   fields the consumer never reads, so the cache does not hold them for every object of the cluster.
    public init(watcher: Watcher<T>, store: Store<T>, transform: @escaping @Sendable (T) -> T = { $0 }) {
        self.watcher = watcher
        self.store = store
        self.transform = transform
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(events: watcher.makeAsyncIterator(), store: store, transform: transform)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var events: Watcher<T>.Iterator
        let store: Store<T>
        let transform: @Sendable (T) -> T
        var pending: ArraySlice<StoreChange<T>> = []

        public mutating func next() async -> StoreChange<T>? {
            while pending.isEmpty {
                // An emptied slice still holds its whole buffer: after an initial list that is one change per object
                // of the cluster, kept until the next event (for a quiet kind, indefinitely). Let it go before waiting.
                pending = []
                guard let event = await events.next() else { return nil }
                pending = store.apply(transformed(event))[...]
            }
            return pending.popFirst()
        }

        private func transformed(_ event: WatcherEvent<T>) -> WatcherEvent<T> {
            switch event {
            case .initObject(let object): .initObject(transform(object))
            case .applied(let object): .applied(transform(object))
            case .deleted(let object): .deleted(transform(object))
            case .initStart, .initDone: event
            }
        }
    }
}
