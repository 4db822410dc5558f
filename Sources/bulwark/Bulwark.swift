import Agent
import ArgumentParser

/// The `bulwark` command: one subcommand per job.
@main
struct Bulwark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulwark",
        abstract: "Kubernetes network policy enforced with eBPF.",
        subcommands: [
            AgentCommand.self, StandaloneCommand.self, ValidateCommand.self, ExplainCommand.self,
            InspectCommand.self, ObserveCommand.self, CleanupCommand.self,
        ]
    )

    static func main() async {
        HeapTuning.limitArenas()
        await main(nil)
    }
}
