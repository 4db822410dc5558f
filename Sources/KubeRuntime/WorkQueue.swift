/// A debounced, de-duplicating queue of keys to reconcile, with per-key exponential retry (client-go's workqueue
/// semantics plus kube-rs's debounce).
///
/// - A key is queued at most once. Adding it again while queued does nothing; while it is being processed, it is
///   queued again once `done`/`retry` is called, so no change is lost and no key is processed twice at once.
/// - `add` waits `debounce` before the key becomes ready, and a burst of adds within that time coalesces; a key
///   never waits more than `maxDebounce` after its first add.
/// - `retry` requeues after `retryBase × 2^failures` (capped at `retryMax`); `done` clears the failure count.
///
/// Usage:
/// ```swift
/// while let key = await queue.next() {
///     do { try await reconcile(key); await queue.done(key) } catch { await queue.retry(key) }
/// }
/// ```
public actor WorkQueue<Key: Hashable & Sendable> {
    private let debounce: Duration
    private let maxDebounce: Duration
    private let retryBase: Duration
    private let retryMax: Duration
    private let clock = ContinuousClock()

    private var ready: [Key] = []
    private var readySet: Set<Key> = []
    /// Keys waiting for their debounce or retry delay: when they become ready, and when they were first added.
    private var waiting: [Key: (due: ContinuousClock.Instant, first: ContinuousClock.Instant)] = [:]
    private var processing: Set<Key> = []
    private var dirty: Set<Key> = []
    private var failures: [Key: Int] = [:]
    private var consumers: [CheckedContinuation<Key?, Never>] = []
    private var timer: Task<Void, Never>?
    private var timerDue: ContinuousClock.Instant?
    private var isShutDown = false

    public init(
        debounce: Duration = .zero, maxDebounce: Duration? = nil, retryBase: Duration = .milliseconds(5),
        retryMax: Duration = .seconds(300)
    ) {
        self.debounce = debounce
        self.maxDebounce = maxDebounce ?? debounce * 10
        self.retryBase = retryBase
        self.retryMax = retryMax
    }

    /// Schedules `key` after the debounce delay.
    public func add(_ key: Key) {
        schedule(key, after: debounce, extend: true)
    }

    /// Schedules `key` after `delay` (e.g. a reconcile asking to run again later).
    public func add(_ key: Key, after delay: Duration) {
        schedule(key, after: delay, extend: false)
    }

    /// The next ready key; waits for one. Returns nil once the queue is shut down.
    public func next() async -> Key? {
        if let key = popReady() { return key }
        if isShutDown { return nil }
        return await withCheckedContinuation { consumers.append($0) }
    }

    /// Processing of `key` succeeded: forget its failures; requeue it if it changed meanwhile.
    public func done(_ key: Key) {
        failures[key] = nil
        finish(key)
    }

    /// Processing of `key` failed: requeue it after its exponential backoff.
    public func retry(_ key: Key) {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        let delay = min(retryBase * (1 << min(count, 30)), retryMax)
        processing.remove(key)
        dirty.remove(key)
        schedule(key, after: delay, extend: false)
    }

    /// How many times `key` failed in a row.
    public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

    /// Keys queued or waiting (not counting those being processed).
    public var count: Int { ready.count + waiting.count }

    /// Wakes every consumer with nil; further adds are ignored.
    public func shutDown() {
        isShutDown = true
        timer?.cancel()
        for consumer in consumers { consumer.resume(returning: nil) }
        consumers = []
    }

    // MARK: Internals

    private func schedule(_ key: Key, after delay: Duration, extend: Bool) {
        guard !isShutDown else { return }
        if processing.contains(key) {
            dirty.insert(key)
            return
        }
        guard !readySet.contains(key) else { return }
        let now = clock.now
        var due = now + delay
        var first = now
        if let existing = waiting[key] {
            first = existing.first
            // A new trigger extends a debounce (bounded by maxDebounce) but never delays an earlier due time.
            due = extend ? min(max(existing.due, due), first + maxDebounce) : min(existing.due, due)
        }
        if due <= now {
            waiting[key] = nil
            makeReady(key)
        } else {
            waiting[key] = (due, first)
            armTimer()
        }
    }

    private func finish(_ key: Key) {
        processing.remove(key)
        if dirty.remove(key) != nil {
            schedule(key, after: debounce, extend: true)
        }
    }

    private func makeReady(_ key: Key) {
        if let consumer = consumers.first {
            consumers.removeFirst()
            processing.insert(key)
            consumer.resume(returning: key)
        } else {
            ready.append(key)
            readySet.insert(key)
        }
    }

    private func popReady() -> Key? {
        guard !ready.isEmpty else { return nil }
        let key = ready.removeFirst()
        readySet.remove(key)
        processing.insert(key)
        return key
    }

    private func promoteDue() {
        let now = clock.now
        for (key, entry) in waiting where entry.due <= now {
            waiting[key] = nil
            makeReady(key)
        }
        timerDue = nil
        armTimer()
    }

    private func armTimer() {
        guard let earliest = waiting.values.map(\.due).min() else { return }
        if let timerDue, timerDue <= earliest { return }
        timer?.cancel()
        timerDue = earliest
        timer = Task { [clock] in
            try? await Task.sleep(until: earliest, clock: clock)
            guard !Task.isCancelled else { return }
            self.promoteDue()
        }
    }
}
