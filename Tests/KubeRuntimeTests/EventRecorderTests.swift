import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Testing

@Suite struct EventRecorderTests {
    @Test func repeatedEventsAggregateIntoOneSeries() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = server.client()
        let policy = try await client.api(TestPolicy.self).create(TestPolicy(name: "deny-all"))
        let recorder = EventRecorder(client: client, reportingController: "bulwark.dev/agent",
                                     reportingInstance: "node-1")
        for _ in 0..<3 {
            try await recorder.record(regarding: policy.reference, type: .warning, reason: "ProgramFailed",
                                      action: "Program", note: "map full")
        }
        try await recorder.record(regarding: policy.reference, type: .normal, reason: "Programmed",
                                  action: "Program", note: "ok")

        let events = try await client.api(Event.self).list().items
        #expect(events.count == 2)
        let failed = try #require(events.first { $0.reason == "ProgramFailed" })
        #expect(failed.series?.count == 3)
        #expect(failed.type == "Warning")
        #expect(failed.regarding?.name == "deny-all")
        #expect(failed.regarding?.kind == "BulwarkPolicy")
        #expect(failed.reportingController == "bulwark.dev/agent")
        #expect(failed.reportingInstance == "node-1")
        let programmed = try #require(events.first { $0.reason == "Programmed" })
        #expect(programmed.series == nil)
    }

    @Test func repeatsAfterTheWindowCreateANewEvent() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = server.client()
        let recorder = EventRecorder(client: client, reportingController: "c", reportingInstance: "i",
                                     aggregationWindow: .milliseconds(100))
        let reference = ObjectReference(apiVersion: "v1", kind: "Pod", namespace: "default", name: "p")
        try await recorder.record(regarding: reference, type: .normal, reason: "R", action: "A", note: "n")
        try await Task.sleep(for: .milliseconds(200))
        try await recorder.record(regarding: reference, type: .normal, reason: "R", action: "A", note: "n")
        #expect(try await client.api(Event.self).list().items.count == 2)
    }
}
