import ArgumentParser

/// The `bulwark` command: one subcommand per job (agent, standalone, validate, explain, inspect, observe).
@main
struct Bulwark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulwark",
        abstract: "Kubernetes network policy enforced with eBPF.",
        subcommands: [ValidateCommand.self, ExplainCommand.self]
    )
}
