import Synchronization

/// Client-side token bucket (client-go's QPS/burst): up to `burst` requests at once, `qps` sustained.
///
/// Why client-side: an agent on every node of a large cluster must not stampede the API server after a restart;
/// the server's priority-and-fairness 429s are the backstop, not the plan.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }

    private let qps: Double
    private let burst: Double
    private let bucket: Mutex<Bucket>

    init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = Double(max(burst, 1))
        bucket = Mutex(Bucket(tokens: Double(max(burst, 1)), last: .now))
    }

    /// Takes one token, waiting for it if the bucket is empty. Watches take a token only when they (re)connect.
    func acquire() async throws {
        guard qps > 0 else { return }
        let wait: Duration = bucket.withLock { bucket in
            let now = ContinuousClock.now
            let elapsed = bucket.last.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            bucket.tokens = min(burst, bucket.tokens + seconds * qps)
            bucket.last = now
            bucket.tokens -= 1
            // A negative balance is this caller's place in the queue.
            return bucket.tokens >= 0 ? .zero : .seconds(-bucket.tokens / qps)
        }
        if wait > .zero {
            try await Task.sleep(for: wait)
        }
    }
}
