import Agent
import ArgumentParser
import Foundation
import ServiceLifecycle

/// `bulwark agent`: the per-node agent (a DaemonSet pod in a cluster, or run by hand against a kind cluster).
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Enforce the cluster's NetworkPolicies and BulwarkPolicies for this node's pods.",
        discussion: """
            In a cluster the node name comes from NODE_NAME (downward API) and credentials from the service \
            account; out of a cluster pass --kubeconfig and --node-name. Serves /healthz, /readyz and /metrics on \
            --bind-address. SIGTERM leaves programs attached and maps pinned.
            """
    )

    @Option(name: .long, help: "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    @Option(name: .long, help: "kubeconfig context (default: its current-context).")
    var context: String?

    @Option(name: .long, help: "This node's name (default: $NODE_NAME).")
    var nodeName: String?

    @Option(name: .long, help: "HOST:PORT for /healthz, /readyz and /metrics; empty disables it.")
    var bindAddress: String = "0.0.0.0:9808"

    @Option(
        name: .long,
        help: "Namespace of the agent pods and the leader Lease (default: $POD_NAMESPACE or bulwark-system).")
    var agentNamespace: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Longest wait between attempts to reach the API server after a failure.",
            discussion: """
                Lists and watches retry after 0.8 s, doubling with jitter up to this; it bounds how long the agent \
                takes to catch up once the API server is back after an outage. Enforcement never stops meanwhile.
                """,
            valueName: "seconds"))
    var maxReconnectBackoff: Double = 30

    @OptionGroup var node: NodeOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard maxReconnectBackoff >= 0.1, maxReconnectBackoff.isFinite else {
            throw ValidationError("--max-reconnect-backoff must be at least 0.1 (seconds)")
        }
        guard resolvedNodeName != nil else {
            throw ValidationError("no node name: pass --node-name or set NODE_NAME (downward API spec.nodeName)")
        }
    }

    private var resolvedNodeName: String? {
        nodeName ?? ProcessInfo.processInfo.environment["NODE_NAME"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        let logger = logging.bootstrap(label: "bulwark.agent")
        let environment = ProcessInfo.processInfo.environment
        let options = ClusterAgent.Options(
            nodeName: resolvedNodeName!, kubeconfig: kubeconfig, context: context, pinRoot: node.pinRoot,
            bindAddress: bindAddress.isEmpty ? nil : bindAddress, stateDirectory: node.stateDir,
            agentNamespace: agentNamespace ?? environment["POD_NAMESPACE"] ?? "bulwark-system",
            identity: environment["POD_NAME"], maxReconnectBackoff: .milliseconds(Int(maxReconnectBackoff * 1000)))
        let group = ServiceGroup(
            configuration: .init(
                services: [ClusterAgent(options: options, logger: logger)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
