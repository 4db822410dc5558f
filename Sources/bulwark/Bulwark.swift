import ArgumentParser

/// The `bulwark` command line: the node agent, standalone mode, and tools to validate, explain and observe policy.
@main
struct Bulwark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulwark",
        abstract: "eBPF network policy for Kubernetes nodes.",
        subcommands: [
            AgentCommand.self, StandaloneCommand.self, InspectCommand.self, ObserveCommand.self, CleanupCommand.self,
        ]
    )
}
