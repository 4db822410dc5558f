import KubeRuntime
import Testing

@Suite struct BackoffTests {
    /// The delays of `count` consecutive failures.
    private func delays(_ backoff: Backoff, _ count: Int) -> [Duration] {
        var backoff = backoff
        return (0..<count).map { _ in backoff.next() }
    }

    @Test func noDelayExceedsTheMaximumEvenWithFullJitter() {
        for jitter in [0.0, 0.5, 1.0, 3.0] {
            for _ in 0..<200 {
                let all = delays(Backoff(initial: .milliseconds(800), maximum: .seconds(30), jitter: jitter), 12)
                #expect(all.allSatisfy { $0 <= .seconds(30) && $0 >= .zero }, "jitter \(jitter): \(all)")
            }
        }
    }

    @Test func equalJitterKeepsEachDelayBetweenHalfTheCeilingAndTheCeiling() {
        let ceilings: [Duration] = [.milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400),
                                    .milliseconds(12_800), .milliseconds(25_600), .seconds(30), .seconds(30)]
        for _ in 0..<200 {
            for (delay, ceiling) in zip(delays(Backoff(), ceilings.count), ceilings) {
                #expect(delay <= ceiling && delay >= ceiling / 2, "\(delay) outside [\(ceiling / 2), \(ceiling)]")
            }
        }
    }

    @Test func withoutJitterTheDelaysDoubleUpToTheMaximum() {
        let all = delays(Backoff(initial: .seconds(1), maximum: .seconds(5), jitter: 0), 5)
        #expect(all == [.seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5)])
    }

    @Test func anInitialAboveTheMaximumIsCapped() {
        let all = delays(Backoff(initial: .seconds(10), maximum: .seconds(2), jitter: 0), 2)
        #expect(all == [.seconds(2), .seconds(2)])
    }

    @Test func resetStartsOverFromTheInitialDelay() {
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(8), jitter: 0)
        for _ in 0..<4 { _ = backoff.next() }
        backoff.reset()
        #expect(backoff.next() == .seconds(1))
    }
}
