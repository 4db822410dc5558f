/// Jittered exponential backoff: `initial`, then ×`factor` per failure up to `maximum`, each delay stretched by a
/// random fraction up to `jitter` so that agents on many nodes do not retry in lockstep.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var factor: Double
    public var jitter: Double
    private var current: Duration?

    /// Defaults follow kube-rs's watcher: 800 ms doubling to 30 s, up to 100 % jitter.
    public init(
        initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), factor: Double = 2,
        jitter: Double = 1
    ) {
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
    }

    /// The delay before the next attempt; grows with every call until `reset`.
    public mutating func next() -> Duration {
        let base = current.map { min($0 * factor, maximum) } ?? initial
        current = base
        return base * (1 + Double.random(in: 0...max(jitter, 0)))
    }

    /// Call after a success: the next failure waits `initial` again.
    public mutating func reset() {
        current = nil
    }
}
