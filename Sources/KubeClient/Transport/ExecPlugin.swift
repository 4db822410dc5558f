import Foundation

/// Runs a client-go credential plugin and decodes its `ExecCredential`
/// (client.authentication.k8s.io/v1: `status.token`, `clientCertificateData`, `clientKeyData`,
/// `expirationTimestamp`).
enum ExecPlugin {
    private struct ExecCredential: Decodable {
        struct Status: Decodable {
            var token: String?
            var clientCertificateData: String?
            var clientKeyData: String?
            var expirationTimestamp: String?
        }

        var apiVersion: String?
        var kind: String?
        var status: Status?
    }

    static func run(_ config: ExecConfig) throws(KubeError) -> (RequestCredentials, Date?) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [config.command] + config.arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(config.environment) { _, new in new }
        environment["KUBERNETES_EXEC_INFO"] =
            #"{"apiVersion":"\#(config.apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            let hint = config.installHint.map { " (\($0))" } ?? ""
            throw .credentials("exec plugin \(config.command): \(error)\(hint)")
        }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: stderr.prefix(1000), as: UTF8.self)
            throw .credentials("exec plugin \(config.command) exited with \(process.terminationStatus): \(message)")
        }
        let credential: ExecCredential
        do {
            credential = try JSONDecoder().decode(ExecCredential.self, from: stdout)
        } catch {
            throw .credentials("exec plugin \(config.command): output is not an ExecCredential: \(error)")
        }
        guard credential.kind == "ExecCredential", let status = credential.status else {
            throw .credentials("exec plugin \(config.command): output has no ExecCredential status")
        }
        var result = RequestCredentials(bearerToken: status.token)
        if let cert = status.clientCertificateData, let key = status.clientKeyData {
            result.clientCertificate = ClientCertificate(certificate: Data(cert.utf8), key: Data(key.utf8))
        }
        guard result.bearerToken != nil || result.clientCertificate != nil else {
            throw .credentials("exec plugin \(config.command): status has neither token nor client certificate")
        }
        var expires: Date?
        if let timestamp = status.expirationTimestamp {
            do {
                expires = try Date(timestamp, strategy: .iso8601)
            } catch {
                throw .credentials("exec plugin \(config.command): status.expirationTimestamp \(timestamp) is not "
                    + "RFC 3339")
            }
        }
        return (result, expires)
    }
}
