import KubeRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct WorkQueueTests {
    @Test func aKeyAddedManyTimesIsProcessedOnce() async {
        let queue = WorkQueue<String>()
        for _ in 0..<5 { await queue.add("a") }
        await queue.add("b")
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        #expect(await queue.count == 0)
    }

    @Test func addsWithinTheDebounceWindowCoalesce() async {
        let queue = WorkQueue<String>(debounce: .milliseconds(200))
        let start = ContinuousClock.now
        await queue.add("k")
        try? await Task.sleep(for: .milliseconds(100))
        await queue.add("k")
        #expect(await queue.next() == "k")
        #expect(start.duration(to: .now) >= .milliseconds(290), "the second add extended the debounce")
        #expect(await queue.count == 0)
    }

    @Test func aKeyAddedWhileProcessingIsQueuedAgainAfterDone() async {
        let queue = WorkQueue<String>()
        await queue.add("k")
        #expect(await queue.next() == "k")
        await queue.add("k")
        #expect(await queue.count == 0, "not handed out twice concurrently")
        await queue.done("k")
        #expect(await queue.next() == "k")
    }

    @Test func retriesBackOffExponentiallyAndDoneResetsThem() async {
        let queue = WorkQueue<String>(retryBase: .milliseconds(50))
        await queue.add("k")
        var key = await queue.next()!
        var waits: [Duration] = []
        for _ in 0..<3 {
            let failed = ContinuousClock.now
            await queue.retry(key)
            key = await queue.next()!
            waits.append(failed.duration(to: .now))
        }
        #expect(waits[0] >= .milliseconds(45))
        #expect(waits[1] >= .milliseconds(95))
        #expect(waits[2] >= .milliseconds(195))
        #expect(await queue.failureCount("k") == 3)
        await queue.done(key)
        #expect(await queue.failureCount("k") == 0)
    }

    @Test func shutDownWakesWaitingConsumers() async {
        let queue = WorkQueue<Int>()
        async let waiting = queue.next()
        try? await Task.sleep(for: .milliseconds(50))
        await queue.shutDown()
        #expect(await waiting == nil)
    }
}
