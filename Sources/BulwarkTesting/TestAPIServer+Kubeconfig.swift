import Foundation

extension TestAPIServer {
    /// How a written kubeconfig authenticates.
    public enum KubeconfigAuth: Sendable {
        /// `client-certificate-data` / `client-key-data` inline, as `kind` writes them.
        case clientCertificate
        /// `client-certificate` / `client-key` file paths, relative to the kubeconfig's folder.
        case clientCertificateFiles
        /// `token: ...`.
        case token
        /// `tokenFile: PATH`.
        case tokenFile(String)
        /// `exec` plugin running `command` with `arguments`.
        case exec(command: String, arguments: [String])
    }

    /// Writes a kind-style kubeconfig (YAML) for this server and returns its path.
    ///
    /// - Parameters:
    ///   - certificateAuthority: PEM to trust instead of the server's CA (wrong-CA tests).
    ///   - namespace: The context's namespace, if any.
    public func writeKubeconfig(
        auth: KubeconfigAuth, name: String = "kubeconfig", certificateAuthority: Data? = nil,
        namespace: String? = nil
    ) throws -> String {
        let ca = (certificateAuthority ?? self.certificateAuthority).base64EncodedString()
        var user: String
        switch auth {
        case .clientCertificate:
            user = """
                    client-certificate-data: \(clientCertificate.base64EncodedString())
                    client-key-data: \(clientKey.base64EncodedString())
                """
        case .clientCertificateFiles:
            try clientCertificate.write(to: URL(fileURLWithPath: "\(directory)/client.crt"))
            try clientKey.write(to: URL(fileURLWithPath: "\(directory)/client.key"))
            user = """
                    client-certificate: client.crt
                    client-key: client.key
                """
        case .token:
            user = "    token: \(token)"
        case .tokenFile(let path):
            user = "    tokenFile: \(path)"
        case .exec(let command, let arguments):
            user = """
                    exec:
                      apiVersion: client.authentication.k8s.io/v1
                      command: \(command)
                      interactiveMode: Never
                      args:
                """
            user += arguments.map { "\n      - \"\($0)\"" }.joined()
            if arguments.isEmpty { user += " []" }
        }
        let text = """
            apiVersion: v1
            kind: Config
            preferences: {}
            clusters:
            - cluster:
                certificate-authority-data: \(ca)
                server: \(url)
              name: kind-test
            contexts:
            - context:
                cluster: kind-test
                user: kind-test\(namespace.map { "\n    namespace: \($0)" } ?? "")
              name: kind-test
            current-context: kind-test
            users:
            - name: kind-test
              user:
            \(user)

            """
        let path = "\(directory)/\(name)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Writes a service-account folder (`token`, `ca.crt`, `namespace`) and returns the environment and folder to
    /// pass to `ClientConfig.inCluster`.
    public func writeServiceAccount(token: String? = nil, namespace: String = "default") throws
        -> (environment: [String: String], directory: String)
    {
        let folder = "\(directory)/serviceaccount"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data((token ?? self.token).utf8).write(to: URL(fileURLWithPath: "\(folder)/token"))
        try certificateAuthority.write(to: URL(fileURLWithPath: "\(folder)/ca.crt"))
        try Data(namespace.utf8).write(to: URL(fileURLWithPath: "\(folder)/namespace"))
        return (["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(port)], folder)
    }
}
