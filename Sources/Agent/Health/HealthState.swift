import Synchronization

/// What `/healthz` and `/readyz` report.
///
/// Readiness means the node is enforcing what the cluster says: every informer finished its initial list and the
/// datapath was programmed successfully at least once. Liveness only means the reconcile loop is not wedged, so a
/// failing API server makes the agent unready but never gets it restarted (restarts would not help and enforcement
/// continues from the pinned maps anyway).
public final class HealthState: Sendable {
    private struct State {
        var synced = false
        var programmed = false
        var lastError: String?
        var lastHeartbeat = ContinuousClock.now
    }

    private let state = Mutex(State())
    private let stallLimit: Duration

    /// - Parameter stallLimit: how long the reconcile loop may go without a heartbeat before `/healthz` fails.
    public init(stallLimit: Duration = .seconds(120)) {
        self.stallLimit = stallLimit
    }

    public func markSynced() { state.withLock { $0.synced = true } }

    /// Records the outcome of a programming attempt; also a heartbeat.
    public func recordProgramming(error: String?) {
        state.withLock {
            if error == nil { $0.programmed = true }
            $0.lastError = error
            $0.lastHeartbeat = .now
        }
    }

    /// Tells `/healthz` the loop is alive while it waits for changes.
    public func heartbeat() { state.withLock { $0.lastHeartbeat = .now } }

    public var isReady: Bool { state.withLock { $0.synced && $0.programmed } }

    /// Answers the health endpoints; anything else is 404.
    public func respond(path: String, metrics: AgentMetrics?) -> HTTPEndpointServer.Response {
        switch path {
        case "/healthz", "/livez":
            let stalled = state.withLock { ContinuousClock.now - $0.lastHeartbeat > stallLimit }
            return stalled
                ? .init(status: 503, body: "reconcile loop stalled\n") : .init(status: 200, body: "ok\n")
        case "/readyz":
            let (synced, programmed, lastError) = state.withLock { ($0.synced, $0.programmed, $0.lastError) }
            if !synced { return .init(status: 503, body: "waiting for the initial list of every watched resource\n") }
            if !programmed {
                return .init(status: 503, body: "datapath not programmed yet: \(lastError ?? "in progress")\n")
            }
            return .init(status: 200, body: "ok\n")
        case "/metrics":
            guard let metrics else { return .init(status: 404, body: "metrics disabled\n") }
            return .init(status: 200, contentType: "text/plain; version=0.0.4", body: metrics.exposition())
        default:
            return .init(status: 404, body: "not found; try /healthz, /readyz or /metrics\n")
        }
    }
}
