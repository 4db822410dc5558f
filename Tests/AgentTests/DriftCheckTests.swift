import Datapath
import DataplaneModel
import KubeModel
import Synchronization
import Testing
import YAML

@testable import Agent

/// The reconciler trusts its last write on ordinary reconciles and checks the kernel only when a drift check was
/// requested (the agents' periodic resync), so user changes never wait for full map reads.
struct DriftCheckTests {
    /// Records what the reconciler asks of the datapath; fails programs on demand.
    final class RecordingDatapath: DatapathControl {
        struct Calls {
            var programs: [Bool] = []  // rereadingMaps, per program call
            var attaches: [UInt32] = []
            var failNext = false
        }
        let calls = Mutex(Calls())

        func program(_ desired: DesiredState, rereadingMaps: Bool) throws -> ProgramReport {
            try calls.withLock { calls in
                calls.programs.append(rereadingMaps)
                if calls.failNext {
                    calls.failNext = false
                    throw DatapathError.invalidDesiredState("injected failure")
                }
            }
            return ProgramReport()
        }

        func attach(ifindex: UInt32) throws -> Bool {
            calls.withLock { $0.attaches.append(ifindex) }
            return true
        }
    }

    /// Every pod's interface is the last octet of its address.
    struct OctetResolver: InterfaceResolver {
        func ifindex(addresses: [IPAddress], interfaceName: String?) throws(InterfaceResolutionError) -> UInt32 {
            guard case .v4(let value)? = addresses.first else { throw .unknownInterface("none") }
            return value & 0xFF
        }
    }

    private static func pod(_ name: String, _ address: String) throws -> Pod {
        let yaml = """
            metadata: {name: \(name), namespace: x, labels: {app: \(name)}}
            spec: {nodeName: node-a, containers: [{name: c}]}
            status: {phase: Running, podIP: \(address)}
            """
        return try JSONValueDecoder().decode(Pod.self, from: try #require(try YAML.parseAll(yaml).first?.value))
    }

    @Test func onlyARequestedDriftCheckRereadsTheMapsAndRechecksEveryInterface() async throws {
        let datapath = RecordingDatapath()
        let reconciler = NodeReconciler(node: "node-a", datapath: datapath, resolver: OctetResolver())
        await reconciler.apply([.podApplied(try Self.pod("a", "10.1.0.11"))])
        _ = await reconciler.reconcile()
        await reconciler.apply([.podApplied(try Self.pod("b", "10.1.0.12"))])
        _ = await reconciler.reconcile()
        // Ordinary reconciles: no reread, and only the new interface is attached.
        #expect(datapath.calls.withLock { $0.programs } == [false, false])
        #expect(datapath.calls.withLock { $0.attaches } == [11, 12])

        await reconciler.requestDriftCheck()
        datapath.calls.withLock { $0.failNext = true }
        let failed = await reconciler.reconcile()
        #expect(failed.programmingError != nil)
        // A failed program keeps the request; the next reconcile rereads and checks every interface, once.
        _ = await reconciler.reconcile()
        _ = await reconciler.reconcile()
        #expect(datapath.calls.withLock { $0.programs } == [false, false, true, true, false])
        #expect(datapath.calls.withLock { $0.attaches }.sorted() == [11, 11, 12, 12])
    }
}
