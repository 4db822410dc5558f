import BulwarkTesting
import Datapath
import DataplaneModel
import Foundation
import Synchronization
import Testing

/// Real traffic between network-namespace pods through the attached programs.
@Suite(.enabled(if: isRoot, "needs root for netns and BPF"), .serialized)
struct TrafficTests {
    static let idA = Identity(rawValue: 1001), idB = Identity(rawValue: 1002), idC = Identity(rawValue: 1003)

    /// Three pods: `a` and `c` are clients, `b` serves TCP 8080/8081 and UDP 5353. `b`'s ingress is policed.
    final class Cluster {
        let fixture: DatapathFixture
        let a: NetNSPod, b: NetNSPod, c: NetNSPod
        let host: String

        init() throws {
            fixture = try DatapathFixture()
            a = try NetNSPod()
            b = try NetNSPod()
            c = try NetNSPod()
            host = try b.hostAddress()
            try b.serve(tcp: [8080, 8081], udp: [5353])
            try a.serve(tcp: [9090])
            for pod in [a, b, c] { try fixture.datapath.attach(ifindex: pod.ifindex) }
        }

        var datapath: Datapath { fixture.datapath }

        func state(bIngress: DirectionPolicy, aEgress: DirectionPolicy = DirectionPolicy()) -> DesiredState {
            func endpoint(
                _ pod: NetNSPod, _ identity: Identity, ingress: DirectionPolicy = DirectionPolicy(),
                egress: DirectionPolicy = DirectionPolicy()
            ) -> Endpoint {
                Endpoint(
                    pod: "test/\(pod.namespace)", addresses: [IPAddress(pod.address)!], identity: identity,
                    ifindex: pod.ifindex, ingress: ingress, egress: egress)
            }
            return DesiredState(
                endpoints: [endpoint(a, idA, egress: aEgress), endpoint(b, idB, ingress: bIngress), endpoint(c, idC)],
                ipcache: [(a, idA), (b, idB), (c, idC)].map {
                    IPCacheEntry(prefix: IPPrefix(host: IPAddress($0.0.address)!), identity: $0.1)
                } + [IPCacheEntry(prefix: IPPrefix(host: IPAddress(host)!), identity: .host)])
        }
    }

    static let allowA = DirectionPolicy(
        isolation: .enforce,
        entries: [
            PolicyEntry(peer: idA, proto: .tcp, ports: PortRange(8080), rule: 1),
            PolicyEntry(peer: idA, proto: .udp, ports: PortRange(5353), rule: 2),
            PolicyEntry(peer: idA, proto: .icmp, rule: 3),
        ])

    @Test func probesBetweenPodsGetExactlyThePolicysVerdicts() throws {
        let cluster = try Cluster()
        let (a, b, c) = (cluster.a, cluster.b, cluster.c)
        #expect(try c.canConnect(to: b.address, port: 8080), "before any policy everything flows")
        try cluster.datapath.program(cluster.state(bIngress: Self.allowA))
        #expect(try a.canConnect(to: b.address, port: 8080))
        #expect(try !a.canConnect(to: b.address, port: 8081))
        #expect(try !c.canConnect(to: b.address, port: 8080))
        #expect(try a.canExchangeDatagram(with: b.address, port: 5353))
        #expect(try !c.canExchangeDatagram(with: b.address, port: 5353))
        #expect(a.canPing(b.address))
        #expect(!c.canPing(b.address))
        #expect(try NetNSPod.sh("ping", "-c1", "-W1", b.address).contains("1 received"), "the node reaches its pod")
        // b's egress is not isolated: its connection to a passes, and the replies pass b's isolated ingress.
        #expect(try b.canConnect(to: a.address, port: 9090))
        let denied = try cluster.datapath.statistics().policyDenied
        #expect(denied >= 4)
    }

    @Test func eachPodOfASameNodeConnectionDecidesIndependently() throws {
        let cluster = try Cluster()
        let aEgress = DirectionPolicy(
            isolation: .enforce,
            entries: [PolicyEntry(peer: Self.idB, proto: .tcp, ports: PortRange(8080, 8081), rule: 5)])
        try cluster.datapath.program(cluster.state(bIngress: Self.allowA, aEgress: aEgress))
        #expect(try cluster.a.canConnect(to: cluster.b.address, port: 8080))
        // a's egress allows 8081, b's ingress does not: a's conntrack entry must not open b's side.
        #expect(try !cluster.a.canConnect(to: cluster.b.address, port: 8081))
        #expect(try !cluster.a.canConnect(to: cluster.c.address, port: 8080), "a's egress denies c")
    }

    @Test func anEstablishedConnectionSurvivesAPolicyChangeThatStillAllowsIt() throws {
        let cluster = try Cluster()
        try cluster.datapath.program(cluster.state(bIngress: Self.allowA))
        let connection = try #require(try cluster.a.openConnection(to: cluster.b.address, port: 8080))
        #expect(try cluster.a.exchange(on: connection))
        var widened = Self.allowA
        widened.entries[0].ports = PortRange(8000, 8100)
        widened.entries.append(PolicyEntry(peer: Self.idC, proto: .udp, rule: 9))
        let report = try cluster.datapath.program(cluster.state(bIngress: widened))
        #expect(report.policy.total > 0)
        #expect(try cluster.a.exchange(on: connection))
        #expect(try cluster.a.canConnect(to: cluster.b.address, port: 8081))
        #expect(try !cluster.c.canConnect(to: cluster.b.address, port: 8080))
    }

    @Test func isolatingAPodKeepsTheRepliesOfConnectionsItOpenedBefore() throws {
        let cluster = try Cluster()
        try cluster.datapath.program(cluster.state(bIngress: DirectionPolicy()))
        let connection = try #require(try cluster.a.openConnection(to: cluster.b.address, port: 8080))
        // Now a becomes ingress-isolated with no rule: its own connection's replies must keep flowing.
        var isolated = cluster.state(bIngress: DirectionPolicy())
        isolated.endpoints[0].ingress = DirectionPolicy(isolation: .enforce)
        try cluster.datapath.program(isolated)
        #expect(try cluster.a.exchange(on: connection))
        #expect(try !cluster.b.canConnect(to: cluster.a.address, port: 9090), "new inbound connections are denied")
    }

    @Test func anAgentRestartDetachesNothingAndReprogramsNothing() throws {
        let cluster = try Cluster()
        let desired = cluster.state(bIngress: Self.allowA)
        var first: Datapath? = try Datapath(pinRoot: cluster.fixture.root)
        try first!.program(desired)
        for pod in [cluster.a, cluster.b, cluster.c] { try first!.attach(ifindex: pod.ifindex) }
        first = nil  // the agent exits: nothing is detached, pins keep maps alive
        #expect(try cluster.a.canConnect(to: cluster.b.address, port: 8080))
        #expect(try !cluster.c.canConnect(to: cluster.b.address, port: 8080))
        let restarted = try Datapath(pinRoot: cluster.fixture.root)
        #expect(try restarted.isAttached(ifindex: cluster.b.ifindex))
        #expect(try restarted.program(desired).mapOperations == 0)
        try restarted.attach(ifindex: cluster.b.ifindex)
        #expect(try !restarted.attach(ifindex: cluster.b.ifindex), "attach is idempotent")
        #expect(try cluster.a.canConnect(to: cluster.b.address, port: 8080))
        #expect(try !cluster.c.canConnect(to: cluster.b.address, port: 8080))
        #expect(try restarted.detach(ifindex: cluster.b.ifindex))
        #expect(try !restarted.detach(ifindex: cluster.b.ifindex), "detach is idempotent")
        #expect(try cluster.c.canConnect(to: cluster.b.address, port: 8080), "detached: no enforcement")
    }

    @Test func probesNeverSeeAWrongVerdictWhileThousandsOfEntriesAreReplaced() throws {
        let cluster = try Cluster()
        func policy(generation: UInt32) -> DirectionPolicy {
            var policy = Self.allowA
            for index in 0..<UInt32(3000) {  // filler identities, different every generation
                let peer = Identity(rawValue: 100_000 + generation * 10_000 + index)
                policy.entries.append(
                    PolicyEntry(
                        peer: peer, proto: .tcp, ports: PortRange(UInt16(1000 + index % 5000)),
                        rule: RuleID(rawValue: 100 + index)))
            }
            // Every other generation also reshapes a's own entry (same verdicts for the probes, new LPM layout).
            if generation % 2 == 1 { policy.entries[0].ports = PortRange(8000, 8090) }
            return policy
        }
        try cluster.datapath.program(cluster.state(bIngress: policy(generation: 0)))
        let stop = Atomic<Bool>(false)
        let wrong = Atomic<Int>(0)
        let probes = Atomic<Int>(0)
        let group = DispatchGroup()
        for (pod, allowed) in [(cluster.a, true), (cluster.c, false)] {
            let target = cluster.b.address
            DispatchQueue.global().async(group: group) {
                while !stop.load(ordering: .relaxed) {
                    let passed = (try? pod.canConnect(to: target, port: 8080, timeout: 1)) ?? !allowed
                    if passed != allowed { wrong.add(1, ordering: .relaxed) }
                    probes.add(1, ordering: .relaxed)
                }
            }
        }
        var replaced = 0
        var generation: UInt32 = 0
        let start = Date()
        while generation < 6 || Date().timeIntervalSince(start) < 3 {  // at least 6 replacements and 3 s of probes
            generation += 1
            let report = try cluster.datapath.program(cluster.state(bIngress: policy(generation: generation)))
            replaced += report.policy.added + report.policy.removed
        }
        Thread.sleep(forTimeInterval: 0.5)
        stop.store(true, ordering: .relaxed)
        group.wait()
        #expect(replaced >= 6 * 6000)
        #expect(probes.load(ordering: .relaxed) > 10)
        #expect(wrong.load(ordering: .relaxed) == 0)
    }
}
