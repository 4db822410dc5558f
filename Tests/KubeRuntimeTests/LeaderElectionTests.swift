import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct LeaderElectionTests {
    private func config(_ identity: String, release: Bool = true) -> LeaderElectionConfig {
        LeaderElectionConfig(
            leaseName: "bulwark-controller", namespace: "default", identity: identity, leaseDuration: .seconds(2),
            renewDeadline: .milliseconds(1500), retryPeriod: .milliseconds(200), releaseOnCancel: release)
    }

    @Test func whenTheLeaderStopsRenewingTheOtherCandidateTakesOverWithinTheLeaseDuration() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = server.client()
        let a = LeaderElector(client: client, config: config("candidate-a", release: false))
        let b = LeaderElector(client: client, config: config("candidate-b", release: false))
        let leadingA = Atomic<Int>(0)
        let leadingB = Atomic<Int>(0)
        let taskA = Task {
            await a.run { leadingA.add(1, ordering: .relaxed); try? await Task.sleep(for: .seconds(60)) }
        }
        try await Task.sleep(for: .milliseconds(500))
        let taskB = Task {
            await b.run { leadingB.add(1, ordering: .relaxed); try? await Task.sleep(for: .seconds(60)) }
        }
        defer { taskB.cancel() }

        try await Task.sleep(for: .seconds(2.5))
        #expect(a.isLeader && !b.isLeader, "exactly one leads, and the lease is renewed past its duration")
        #expect(leadingB.load(ordering: .relaxed) == 0)
        let lease = try await client.api(Lease.self, namespace: "default").get("bulwark-controller")
        #expect(lease.spec?.holderIdentity == "candidate-a")
        #expect(lease.spec?.leaseDurationSeconds == 2)

        taskA.cancel()  // the leader crashes: no release, no more renewals
        let stopped = ContinuousClock.now
        while !b.isLeader && stopped.duration(to: .now) < .seconds(10) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let takeover = stopped.duration(to: .now)
        #expect(b.isLeader)
        // Expiry is observed by the local clock: lease duration plus at most one retry period, plus slack for a
        // loaded CI machine.
        #expect(takeover <= .seconds(3), "took \(takeover); lease duration is 2 s")
        let after = try await client.api(Lease.self, namespace: "default").get("bulwark-controller")
        #expect(after.spec?.holderIdentity == "candidate-b")
        #expect(after.spec?.leaseTransitions == 1)
        #expect(leadingA.load(ordering: .relaxed) == 1)
    }

    @Test func aCancelledLeaderReleasesTheLeaseForAnImmediateTakeover() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = server.client()
        let a = LeaderElector(client: client, config: config("a"))
        let b = LeaderElector(client: client, config: config("b"))
        let taskA = Task { await a.run { try? await Task.sleep(for: .seconds(60)) } }
        try await Task.sleep(for: .milliseconds(400))
        let taskB = Task { await b.run { try? await Task.sleep(for: .seconds(60)) } }
        defer { taskB.cancel() }
        try await Task.sleep(for: .milliseconds(400))
        #expect(a.isLeader)
        taskA.cancel()
        await taskA.value
        let released = ContinuousClock.now
        while !b.isLeader && released.duration(to: .now) < .seconds(5) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(b.isLeader)
        #expect(released.duration(to: .now) < .seconds(1.5), "a released lease expires after 1 s at most")
    }
}
