/// Jittered exponential backoff whose `maximum` is a true bound: a ceiling starts at `initial` and grows ×`factor`
/// per failure up to `maximum`, and each delay is drawn at random from the top `jitter` fraction of the ceiling
/// (`[ceiling × (1 − jitter), ceiling]`), so agents on many nodes do not retry in lockstep.
///
/// Why the jitter is taken off the ceiling rather than added on top: client-go's `wait.Backoff` and the
/// kube-rs watcher's backoff add theirs after the cap (client-go documents an actual maximum of `cap × (1 + jitter)`),
/// so "30 s maximum" may mean a minute. Here no delay exceeds `maximum`: a watcher whose server comes back retries
/// within `maximum`, which bounds how long an agent takes to catch up after an API-server outage.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var factor: Double
    /// The random part of each delay, as a fraction of the ceiling (clamped to 0...1). The default 0.5 is "equal
    /// jitter": delays between half the ceiling and the ceiling.
    public var jitter: Double
    private var ceiling: Duration?

    /// Defaults follow kube-rs's watcher and client-go's reflector: 800 ms doubling to 30 s, with equal jitter.
    public init(
        initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), factor: Double = 2,
        jitter: Double = 0.5
    ) {
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
    }

    /// The delay before the next attempt, never more than `maximum`; the ceiling grows with every call until
    /// `reset`.
    public mutating func next() -> Duration {
        let next = ceiling.map { min($0 * factor, maximum) } ?? min(initial, maximum)
        ceiling = next
        let spread = min(max(jitter, 0), 1)
        return next * (1 - spread * Double.random(in: 0...1))
    }

    /// Call after a success: the next failure waits about `initial` again.
    public mutating func reset() {
        ceiling = nil
    }
}
