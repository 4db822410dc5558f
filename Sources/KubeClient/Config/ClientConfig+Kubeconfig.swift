import Foundation
import YAML

extension ClientConfig {
    /// Finds the configuration like kubectl: an explicit kubeconfig path, else the `$KUBECONFIG` list, else
    /// `~/.kube/config`, else the in-cluster service account.
    ///
    /// - Parameters:
    ///   - kubeconfig: A `--kubeconfig` path; when given, nothing else is consulted.
    ///   - context: A `--context` override of the kubeconfig's `current-context`.
    public static func load(
        kubeconfig: String? = nil, context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> ClientConfig {
        if let kubeconfig {
            return try Self.kubeconfig(paths: [kubeconfig], context: context)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init)
                .filter { FileManager.default.fileExists(atPath: $0) }
            guard !paths.isEmpty else {
                throw ConfigurationError(source: "KUBECONFIG", field: "", problem: "none of \(list) exists")
            }
            return try Self.kubeconfig(paths: paths, context: context)
        }
        if let home = environment["HOME"], FileManager.default.fileExists(atPath: "\(home)/.kube/config") {
            return try Self.kubeconfig(paths: ["\(home)/.kube/config"], context: context)
        }
        return try inCluster(environment: environment)
    }

    /// Configuration from one or more kubeconfig files, merged like `$KUBECONFIG`: the first file defining a
    /// cluster, user or context name wins, and the first non-empty `current-context` is used.
    public static func kubeconfig(paths: [String], context: String? = nil) throws(ConfigurationError) -> ClientConfig {
        var merged = KubeconfigEntries()
        for path in paths {
            try merged.merge(file: path)
        }
        guard let contextName = context ?? merged.currentContext else {
            throw ConfigurationError(source: "kubeconfig \(paths.joined(separator: ":"))", field: "current-context",
                                     problem: "not set and no context was requested")
        }
        guard let contextEntry = merged.contexts[contextName] else {
            throw ConfigurationError(source: "kubeconfig \(paths.joined(separator: ":"))", field: "contexts",
                                     problem: "no context named \(contextName)")
        }
        let clusterName = try contextEntry.string("cluster", required: true)!
        let namespace = try contextEntry.string("namespace")
        guard let cluster = merged.clusters[clusterName] else {
            throw contextEntry.error("cluster", "no cluster named \(clusterName)")
        }
        var config = ClientConfig(server: "", source: "kubeconfig \(contextEntry.file), context \(contextName)")
        try cluster.applyCluster(to: &config)
        if let userName = try contextEntry.string("user") {
            guard let user = merged.users[userName] else {
                throw contextEntry.error("user", "no user named \(userName)")
            }
            try user.applyUser(to: &config)
        }
        if let namespace, !namespace.isEmpty { config.namespace = namespace }
        return config
    }
}

/// The named entries of merged kubeconfig files, each remembering where it came from for error messages.
private struct KubeconfigEntries {
    var clusters: [String: Entry] = [:]
    var users: [String: Entry] = [:]
    var contexts: [String: Entry] = [:]
    var currentContext: String?

    mutating func merge(file path: String) throws(ConfigurationError) {
        let source = "kubeconfig \(path)"
        let documents: [YAMLDocument]
        do {
            documents = try YAML.parseAll(contentsOf: path)
        } catch {
            throw ConfigurationError(source: source, field: "", problem: error.description)
        }
        guard let document = documents.first, !document.value.isNull else { return }
        guard let root = document.value.objectValue else {
            throw ConfigurationError(source: source, field: "", problem: "not a mapping")
        }
        if currentContext == nil, let current = root["current-context"]?.stringValue, !current.isEmpty {
            currentContext = current
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        for (list, inner) in [("clusters", "cluster"), ("users", "user"), ("contexts", "context")] {
            guard let value = root[list], !value.isNull else { continue }
            guard let items = value.arrayValue else {
                throw ConfigurationError(source: source, field: list, problem: "must be a list")
            }
            for (index, item) in items.enumerated() {
                let field = "\(list)[\(index)]"
                guard let name = item["name"]?.stringValue, !name.isEmpty else {
                    throw ConfigurationError(source: source, field: "\(field).name", problem: "missing")
                }
                guard let body = item[inner]?.objectValue else {
                    throw ConfigurationError(source: source, field: "\(field).\(inner)",
                                             problem: "missing or not a mapping")
                }
                let entry = Entry(file: path, folder: folder, field: "\(field).\(inner)", values: body)
                switch list {
                case "clusters": if clusters[name] == nil { clusters[name] = entry }
                case "users": if users[name] == nil { users[name] = entry }
                default: if contexts[name] == nil { contexts[name] = entry }
                }
            }
        }
    }
}

/// One `cluster`, `user` or `context` mapping.
private struct Entry {
    var file: String
    var folder: String
    /// e.g. `users[0].user`.
    var field: String
    var values: JSONObject

    func error(_ key: String, _ problem: String) -> ConfigurationError {
        ConfigurationError(source: "kubeconfig \(file)", field: "\(field).\(key)", problem: problem)
    }

    func string(_ key: String, required: Bool = false) throws(ConfigurationError) -> String? {
        guard let value = values[key], !value.isNull else {
            if required { throw error(key, "missing") }
            return nil
        }
        guard let text = value.stringValue else { throw error(key, "must be a string, not \(value.kindName)") }
        return text
    }

    func bool(_ key: String) throws(ConfigurationError) -> Bool {
        guard let value = values[key], !value.isNull else { return false }
        guard let flag = value.boolValue else { throw error(key, "must be true or false") }
        return flag
    }

    /// Inline base64 `KEY-data` or a file `KEY` (relative to the kubeconfig's folder); PEM either way.
    func pem(_ key: String) throws(ConfigurationError) -> Data? {
        if let encoded = try string("\(key)-data") {
            guard let data = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !data.isEmpty else {
                throw error("\(key)-data", "invalid base64")
            }
            guard String(decoding: data.prefix(64), as: UTF8.self).contains("-----BEGIN") else {
                throw error("\(key)-data", "not PEM (no -----BEGIN line)")
            }
            return data
        }
        guard let path = try string(key) else { return nil }
        let resolved = path.hasPrefix("/") ? path : "\(folder)/\(path)"
        guard let data = FileManager.default.contents(atPath: resolved) else {
            throw error(key, "cannot read \(resolved)")
        }
        return data
    }

    func applyCluster(to config: inout ClientConfig) throws(ConfigurationError) {
        let server = try string("server", required: true)!
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw error("server", "must be an http(s) URL, not \(server)")
        }
        config.server = server
        config.certificateAuthority = try pem("certificate-authority")
        config.insecureSkipTLSVerify = try bool("insecure-skip-tls-verify")
    }

    func applyUser(to config: inout ClientConfig) throws(ConfigurationError) {
        if values["auth-provider"] != nil {
            throw error("auth-provider", "auth-provider plugins are not supported; use an exec plugin")
        }
        let certificate = try pem("client-certificate")
        let key = try pem("client-key")
        switch (certificate, key) {
        case (let certificate?, let key?):
            config.clientCertificate = ClientCertificate(certificate: certificate, key: key)
        case (.some, nil):
            throw error("client-key-data", "missing (client-certificate is set)")
        case (nil, .some):
            throw error("client-certificate-data", "missing (client-key is set)")
        case (nil, nil):
            break
        }
        if let tokenFile = try string("tokenFile") {
            config.credentials = .tokenFile(tokenFile.hasPrefix("/") ? tokenFile : "\(folder)/\(tokenFile)")
        } else if let token = try string("token") {
            config.credentials = .token(token)
        } else if let exec = values["exec"], !exec.isNull {
            config.credentials = .exec(try execConfig(exec))
        }
    }

    private func execConfig(_ value: JSONValue) throws(ConfigurationError) -> ExecConfig {
        guard let exec = value.objectValue else { throw error("exec", "must be a mapping") }
        let nested = Entry(file: file, folder: folder, field: "\(field).exec", values: exec)
        var command = try nested.string("command", required: true)!
        // client-go resolves a relative command path containing a slash against the kubeconfig's folder.
        if command.contains("/") && !command.hasPrefix("/") { command = "\(folder)/\(command)" }
        var arguments: [String] = []
        for (index, argument) in (exec["args"]?.arrayValue ?? []).enumerated() {
            guard let text = argument.stringValue else { throw nested.error("args[\(index)]", "must be a string") }
            arguments.append(text)
        }
        var environment: [String: String] = [:]
        for (index, variable) in (exec["env"]?.arrayValue ?? []).enumerated() {
            guard let name = variable["name"]?.stringValue, let value = variable["value"]?.stringValue else {
                throw nested.error("env[\(index)]", "needs string name and value")
            }
            environment[name] = value
        }
        let apiVersion = try nested.string("apiVersion", required: true)!
        guard apiVersion.hasPrefix("client.authentication.k8s.io/") else {
            throw nested.error("apiVersion", "unsupported exec plugin API \(apiVersion)")
        }
        return ExecConfig(command: command, arguments: arguments, environment: environment, apiVersion: apiVersion,
                          installHint: try nested.string("installHint"))
    }
}
