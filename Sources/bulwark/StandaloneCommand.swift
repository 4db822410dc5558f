import Agent
import ArgumentParser
import Datapath
import Foundation
import Logging
import ServiceLifecycle

/// `bulwark standalone --dir DIR`: enforce the policies in a folder of YAML files on this machine.
struct StandaloneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standalone",
        abstract: "Enforce the policies, namespaces and pods described in a folder of YAML files (no Kubernetes).",
        discussion: """
            Pods name their host-side interface with the bulwark.dev/interface annotation (or are found by the \
            route to status.podIP). The folder is re-read on every change; status is printed and written to \
            DIR/status/. Stops on SIGTERM/SIGINT, leaving programs attached and maps pinned.
            """
    )

    @Option(name: .long, help: "Folder of YAML/JSON manifests.")
    var dir: String

    @OptionGroup var node: NodeOptions

    @OptionGroup var logging: LoggingOptions

    @Option(name: .long, help: "HOST:PORT for /healthz, /readyz and /metrics; empty disables it.")
    var bindAddress: String = "127.0.0.1:9808"

    @Option(name: .long, help: "Node name used in status entries.")
    var nodeName: String = "standalone"

    func run() async throws {
        let logger = logging.bootstrap(label: "bulwark.standalone")
        try Datapath.mountBPFFileSystem()
        let options = StandaloneAgent.Options(
            directory: dir, pinRoot: node.pinRoot, bindAddress: bindAddress.isEmpty ? nil : bindAddress,
            nodeName: nodeName, stateDirectory: node.stateDir)
        let agent = StandaloneAgent(options: options, logger: logger, output: printLine)
        let group = ServiceGroup(
            configuration: .init(services: [agent], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Where a node's pinned BPF state and name file live; shared by every command that talks to a node's datapath.
struct NodeOptions: ParsableArguments {
    @Option(
        name: .customLong("bpf-root"),
        help: "BPF file system folder holding Bulwark's pinned maps and programs (default: $BULWARK_BPF_ROOT or /sys/fs/bpf/bulwark)."
    )
    var pinRoot: String = ProcessInfo.processInfo.environment["BULWARK_BPF_ROOT"] ?? Datapath.defaultPinRoot

    @Option(name: .long, help: "Folder where the agent writes names.json (pods, identities, rules).")
    var stateDir: String = "/run/bulwark"

    var namesFile: String { stateDir + "/names.json" }
}

/// `--log-level`, shared by the long-running commands; logs go to standard error.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func bootstrap(label: String) -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
