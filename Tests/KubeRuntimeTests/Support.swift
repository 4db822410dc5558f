import BulwarkTesting
import Foundation
import KubeClient
import KubeRuntime

extension TestAPIServer {
    func client() -> KubeClient {
        KubeClient(config: ClientConfig(
            server: url, certificateAuthority: certificateAuthority, credentials: .token(token), qps: 0))
    }
}

/// Fast backoff so recovery tests finish quickly.
let quickBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0.5)

/// Collects store changes from a reflector running in the background.
final class ChangeLog<T: KubeResource>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []

    func append(_ change: StoreChange<T>) {
        let text: String
        switch change {
        case .applied(let object): text = "applied \(object.metadata.name)"
        case .deleted(let object): text = "deleted \(object.metadata.name)"
        case .ready: text = "ready"
        }
        lock.withLock { entries.append(text) }
    }

    var all: [String] { lock.withLock { entries } }

    /// Waits until `predicate` holds for the log, up to `timeout`.
    func wait(timeout: Duration = .seconds(10), _ predicate: ([String]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if predicate(all) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return predicate(all)
    }
}

import KubeModel

/// Runs a reflector for `T` in the background and logs its changes.
func startReflector<T: KubeResource>(
    _ api: Api<T>, store: Store<T>, config: WatcherConfig = WatcherConfig(backoff: quickBackoff),
    transform: @escaping @Sendable (T) -> T = { $0 }
) -> (Task<Void, Never>, ChangeLog<T>) {
    let log = ChangeLog<T>()
    let task = Task {
        let watcher = Watcher(api: api, config: config)
        for await change in Reflector(watcher: watcher, store: store, transform: transform) {
            log.append(change)
        }
    }
    return (task, log)
}
