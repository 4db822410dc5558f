import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import Testing

/// Every failure the API server can answer is surfaced as its own `KubeError` case with the server's message.
@Suite struct ErrorTests {
    @Test func missingObjectIsNotFoundWithTheServerMessage() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let error = await kubeError { _ = try await server.client().api(TestConfigMap.self).get("nope") }
        guard case .notFound(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message == #"configmaps "nope" not found"#)
        #expect(status.details?.name == "nope")
    }

    @Test func creatingTwiceIsAlreadyExists() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        _ = try await maps.create(TestConfigMap(name: "twice"))
        let error = await kubeError { _ = try await maps.create(TestConfigMap(name: "twice")) }
        guard case .alreadyExists(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message == #"configmaps "twice" already exists"#)
    }

    @Test func invalidObjectCarriesFieldCauses() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        let error = await kubeError { _ = try await maps.create(TestConfigMap(name: "Bad_Name")) }
        guard case .invalid(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message?.hasPrefix(#"ConfigMap "Bad_Name" is invalid: metadata.name"#) == true)
        #expect(error?.causes.first?.field == "metadata.name")
        #expect(error?.causes.first?.reason == "FieldValueInvalid")
    }

    @Test func unknownTokenIsUnauthorized() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = KubeClient(config: ClientConfig(
            server: server.url, certificateAuthority: server.certificateAuthority, credentials: .token("wrong")))
        let error = await kubeError { _ = try await client.api(TestConfigMap.self).list() }
        guard case .unauthorized(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message == "Unauthorized")
    }

    @Test func userWithoutWriteAccessIsForbidden() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        try await server.command("readonly", ["users": ["admin"]])
        let maps = server.client().api(TestConfigMap.self)
        _ = try await maps.list()
        let error = await kubeError { _ = try await maps.create(TestConfigMap(name: "x")) }
        guard case .forbidden(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message?.contains(#"User "admin" cannot create resource "configmaps""#) == true)
    }

    @Test func expiredContinueTokenIsGone() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        for index in 0..<3 { _ = try await maps.create(TestConfigMap(name: "m\(index)")) }
        let page = try await maps.list(ListOptions(limit: 1))
        _ = try await maps.create(TestConfigMap(name: "later"))
        try await server.command("compact")
        let stale = ListOptions(limit: 1, continueToken: page.continueToken)
        let error = await kubeError { _ = try await maps.list(stale) }
        guard case .gone(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message?.contains("continue parameter is too old") == true)
    }

    @Test func tooManyRequestsIsRetriedAfterRetryAfter() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        try await server.command("inject", ["code": 429, "count": 2, "retryAfter": 1])
        let started = ContinuousClock.now
        let list = try await server.client().api(TestConfigMap.self).list()
        #expect(list.items.isEmpty)
        #expect(started.duration(to: .now) >= .seconds(2), "each 429 waits for its Retry-After")
    }

    @Test func tooManyRequestsBeyondTheRetryBudgetIsTyped() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        try await server.command("inject", ["code": 429, "count": 1, "retryAfter": 7])
        let error = await kubeError {
            _ = try await server.client(maxRetriesOnTooManyRequests: 0).api(TestConfigMap.self).list()
        }
        guard case .tooManyRequests(let status, let retryAfter) = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(retryAfter == .seconds(7))
        #expect(status.message == "Too many requests, please try again later.")
    }

    @Test func serverFailureIsAServerError() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        try await server.command("inject", ["code": 500, "count": 1])
        let error = await kubeError { _ = try await server.client().api(TestConfigMap.self).get("x") }
        guard case .server(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.code == 500)
        #expect(status.message == "Internal error occurred: injected failure 500")
    }

    @Test func malformedSelectorIsABadRequest() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let error = await kubeError {
            _ = try await server.client().api(TestConfigMap.self).list(ListOptions(fieldSelector: "spec.color=red"))
        }
        guard case .badRequest(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message == "field label not supported: spec.color")
    }

    @Test func staleDeletePreconditionIsAConflict() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let maps = server.client().api(TestConfigMap.self)
        let created = try await maps.create(TestConfigMap(name: "d"))
        _ = try await maps.patch("d", .merge(json: Data(#"{"data":{"a":"b"}}"#.utf8)))
        let error = await kubeError { try await maps.delete("d", resourceVersion: created.metadata.resourceVersion) }
        guard case .conflict(let status) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(status.message?.contains("precondition") == true)
    }

    @Test func unreachableServerIsATransportError() async throws {
        let client = KubeClient(config: ClientConfig(server: "https://127.0.0.1:1", credentials: .token("t")))
        let error = await kubeError { _ = try await client.api(TestConfigMap.self).list() }
        guard case .transport(let transport) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(transport.kind == .connection)
        #expect(transport.message.contains("Couldn't connect"))
    }
}
