import Foundation
import KubeClient
import KubeModel
import Logging
import Synchronization

/// Records `events.k8s.io/v1` Events, aggregating repeats.
///
/// The same event (same object, type, reason, action and note) recorded again within `aggregationWindow` does not
/// create a new object: the recorder patches the existing event's `series` (count and lastObservedTime), as the
/// events API intends, so a flapping condition costs one object instead of thousands.
public final class EventRecorder: Sendable {
    /// Event type, as the API spells it.
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    private struct Key: Hashable {
        var regarding: ObjectReference
        var type: EventType
        var reason: String
        var action: String
        var note: String
    }

    private struct Recorded {
        var name: String
        var namespace: String
        var count: Int32
        var last: ContinuousClock.Instant
    }

    private let client: KubeClient
    private let reportingController: String
    private let reportingInstance: String
    private let aggregationWindow: Duration
    private let logger: Logger
    private let recorded = Mutex<[Key: Recorded]>([:])

    /// - Parameters:
    ///   - reportingController: e.g. `bulwark.dev/agent`.
    ///   - reportingInstance: e.g. `bulwark-agent-node-1`.
    public init(
        client: KubeClient, reportingController: String, reportingInstance: String,
        aggregationWindow: Duration = .seconds(600), logger: Logger = Logger(label: "bulwark.events")
    ) {
        self.client = client
        self.reportingController = reportingController
        self.reportingInstance = reportingInstance
        self.aggregationWindow = aggregationWindow
        self.logger = logger
    }

    /// Records an event about `regarding`; returns the Event object as stored.
    @discardableResult
    public func record(
        regarding: ObjectReference, type: EventType, reason: String, action: String, note: String
    ) async throws -> Event {
        let key = Key(regarding: regarding, type: type, reason: reason, action: action,
                      note: String(note.prefix(1024)))
        let now = ContinuousClock.now
        let previous: Recorded? = recorded.withLock { recorded in
            guard var entry = recorded[key], entry.last.duration(to: now) < aggregationWindow else { return nil }
            entry.count += 1
            entry.last = now
            recorded[key] = entry
            return entry
        }
        if let previous {
            do {
                return try await bumpSeries(previous)
            } catch KubeError.notFound {
                logger.debug("aggregated event vanished; recording a new one", metadata: ["event": "\(previous.name)"])
            }
        }
        let event = try await create(key)
        recorded.withLock { recorded in
            if recorded.count >= 4096 {
                recorded = recorded.filter { $0.value.last.duration(to: now) < aggregationWindow }
            }
            recorded[key] = Recorded(name: event.metadata.name, namespace: event.metadata.namespace ?? "default",
                                     count: 1, last: now)
        }
        return event
    }

    private func create(_ key: Key) async throws -> Event {
        let namespace = key.regarding.namespace ?? "default"
        let stamp = String(UInt64(Date().timeIntervalSince1970 * 1_000_000_000), radix: 16)
        let event = Event(
            metadata: ObjectMeta(name: "\(key.regarding.name ?? "object").\(stamp)", namespace: namespace),
            eventTime: MicroTime.string(), reportingController: reportingController,
            reportingInstance: reportingInstance, action: key.action, reason: key.reason, regarding: key.regarding,
            note: key.note, type: key.type.rawValue)
        return try await client.api(Event.self, namespace: namespace).create(event)
    }

    private func bumpSeries(_ entry: Recorded) async throws -> Event {
        struct SeriesPatch: Encodable {
            var series: EventSeries
        }
        let patch = try Patch.merge(SeriesPatch(series: EventSeries(count: entry.count,
                                                                    lastObservedTime: MicroTime.string())))
        return try await client.api(Event.self, namespace: entry.namespace).patch(entry.name, patch)
    }
}
