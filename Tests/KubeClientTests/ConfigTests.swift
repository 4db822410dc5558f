import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import Testing

private func lastUser(_ server: TestAPIServer) async throws -> String? {
    let requests = try await server.command("requests")["requests"] as? [[String: Any]] ?? []
    return requests.last?["user"] as? String
}

private let pemStub = Data("-----BEGIN CERTIFICATE-----\n".utf8).base64EncodedString()

@Suite struct ConfigTests {
    @Test func kubeconfigWithKindStyleClientCertificateAuthenticatesAsItsSubject() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let path = try server.writeKubeconfig(auth: .clientCertificate, namespace: "kube-system")
        let config = try ClientConfig.kubeconfig(paths: [path])
        #expect(config.server == server.url)
        #expect(config.namespace == "kube-system")
        #expect(config.source == "kubeconfig \(path), context kind-test")
        let maps = KubeClient(config: config).api(TestConfigMap.self)
        _ = try await maps.list()
        #expect(try await lastUser(server) == "kubernetes-admin")
    }

    @Test func kubeconfigWithClientCertificateFilesResolvesRelativePaths() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let path = try server.writeKubeconfig(auth: .clientCertificateFiles)
        _ = try await KubeClient(config: ClientConfig.kubeconfig(paths: [path])).api(TestConfigMap.self).list()
        #expect(try await lastUser(server) == "kubernetes-admin")
    }

    @Test func kubeconfigWithTokenAuthenticatesWithTheToken() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let path = try server.writeKubeconfig(auth: .token)
        let config = try ClientConfig.load(kubeconfig: path)
        _ = try await KubeClient(config: config).api(TestConfigMap.self).list()
        #expect(try await lastUser(server) == "admin")
        #expect(config.namespace == "default")
    }

    @Test func kubeconfigListFromTheEnvironmentIsMerged() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let full = try server.writeKubeconfig(auth: .token)
        let selector = "\(server.directory)/selector"
        try Data("apiVersion: v1\nkind: Config\ncurrent-context: kind-test\n".utf8)
            .write(to: URL(fileURLWithPath: selector))
        let config = try ClientConfig.load(environment: ["KUBECONFIG": "\(selector):/nonexistent:\(full)"])
        #expect(config.server == server.url)
    }

    @Test func execPluginTokenIsCachedUntilItExpires() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let counter = "\(server.directory)/exec-count"
        let script = "\(server.directory)/credential-plugin.sh"
        let credential = #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","#
            + #""status":{"token":"\#(server.token)","expirationTimestamp":"2099-01-01T00:00:00Z"}}"#
        try Data("#!/bin/sh\necho run >> \(counter)\necho '\(credential)'\n".utf8)
            .write(to: URL(fileURLWithPath: script))
        chmod(script, 0o755)
        let path = try server.writeKubeconfig(auth: .exec(command: "./credential-plugin.sh", arguments: ["--x"]))
        let maps = KubeClient(config: try ClientConfig.kubeconfig(paths: [path])).api(TestConfigMap.self)
        _ = try await maps.list()
        _ = try await maps.list()
        #expect(try await lastUser(server) == "admin")
        let runs = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count
        #expect(runs == 1)
    }

    @Test func execPluginClientCertificateIsUsedForTLS() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let script = "\(server.directory)/cert-plugin.py"
        let status: [String: String] = [
            "clientCertificateData": String(decoding: server.clientCertificate, as: UTF8.self),
            "clientKeyData": String(decoding: server.clientKey, as: UTF8.self),
        ]
        let credential: [String: Any] = [
            "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status,
        ]
        try JSONSerialization.data(withJSONObject: credential).write(to: URL(fileURLWithPath: "\(script).json"))
        try Data("#!/bin/sh\ncat '\(script).json'\n".utf8).write(to: URL(fileURLWithPath: script))
        chmod(script, 0o755)
        let path = try server.writeKubeconfig(auth: .exec(command: script, arguments: []))
        _ = try await KubeClient(config: ClientConfig.kubeconfig(paths: [path])).api(TestConfigMap.self).list()
        #expect(try await lastUser(server) == "kubernetes-admin")
    }

    @Test func inClusterConfigUsesTheServiceAccount() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let account = try server.writeServiceAccount(namespace: "team-a")
        let config = try ClientConfig.inCluster(environment: account.environment,
                                                serviceAccountDirectory: account.directory)
        #expect(config.namespace == "team-a")
        #expect(config.server == "https://127.0.0.1:\(server.port)")
        _ = try await KubeClient(config: config).api(TestConfigMap.self, namespace: "default").list()
        #expect(try await lastUser(server) == "admin")
    }

    @Test func rotatedTokenFileIsPickedUpWithoutRestart() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let account = try server.writeServiceAccount(token: "token-one")
        try await server.command("tokens", ["tokens": ["token-one": "agent"]])
        let client = KubeClient(config: try ClientConfig.inCluster(
            environment: account.environment, serviceAccountDirectory: account.directory))
        let maps = client.api(TestConfigMap.self)
        _ = try await maps.list()

        try await server.command("tokens", ["tokens": ["token-two": "agent-rotated"]])
        try Data("token-two\n".utf8).write(to: URL(fileURLWithPath: "\(account.directory)/token"))
        _ = try await maps.list()
        #expect(try await lastUser(server) == "agent-rotated")
    }

    @Test func wrongCertificateAuthorityFailsWithAClearTLSError() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let path = try server.writeKubeconfig(auth: .token, certificateAuthority: server.otherCertificateAuthority)
        let client = KubeClient(config: try ClientConfig.kubeconfig(paths: [path]))
        let error = await kubeError { _ = try await client.api(TestConfigMap.self).list() }
        guard case .transport(let transport) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(transport.kind == .tls)
        #expect(transport.description.hasPrefix("TLS error talking to \(server.url)"))
        #expect(transport.message.contains("certificate"))
    }

    @Test func explicitInsecureSkipTLSVerifyIsHonoured() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let client = KubeClient(config: ClientConfig(
            server: server.url, certificateAuthority: server.otherCertificateAuthority, insecureSkipTLSVerify: true,
            credentials: .token(server.token)))
        _ = try await client.api(TestConfigMap.self).list()
    }

    @Test(arguments: [
        ("client-certificate-data: \(pemStub)\n    client-key-data: '!!!notbase64'",
         "users[0].user.client-key-data: invalid base64"),
        ("client-certificate-data: \(pemStub)\n    client-key-data: aGVsbG8=",
         "users[0].user.client-key-data: not PEM (no -----BEGIN line)"),
        ("client-certificate-data: \(pemStub)", "users[0].user.client-key-data: missing (client-certificate is set)"),
        ("token: [1, 2]", "users[0].user.token: must be a string, not array"),
        ("exec: {command: x}", "users[0].user.exec.apiVersion: missing"),
    ])
    func invalidUserFieldsAreNamedInTheError(line: String, expected: String) throws {
        let path = NSTemporaryDirectory() + "bulwark-kubeconfig-\(getpid())-\(abs(line.hashValue))"
        let text = """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: k
              cluster: {server: "https://127.0.0.1:6443"}
            contexts:
            - name: c
              context: {cluster: k, user: u}
            users:
            - name: u
              user:
                \(line)

            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigurationError.self) { try ClientConfig.kubeconfig(paths: [path]) }
        do {
            _ = try ClientConfig.kubeconfig(paths: [path])
        } catch {
            #expect(error.description == "kubeconfig \(path): \(expected)")
        }
    }

    @Test func unknownContextIsNamed() async throws {
        let server = try await TestAPIServer.start()
        defer { server.close() }
        let path = try server.writeKubeconfig(auth: .token)
        do {
            _ = try ClientConfig.kubeconfig(paths: [path], context: "prod")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "kubeconfig \(path): contexts: no context named prod")
        }
    }
}
