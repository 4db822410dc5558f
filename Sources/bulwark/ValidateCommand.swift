import ArgumentParser
import Manifests

/// `bulwark validate -f FILE|DIR`: checks manifests offline, as the agent would judge them.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check policy manifests (YAML or JSON, multi-document) and print every error with its location.",
        discussion: """
            Reads NetworkPolicy and BulwarkPolicy objects (and Pods, Namespaces, Services, EndpointSlices) from the \
            given files or directories. Every problem is printed as FILE:LINE:COLUMN: FIELD.PATH: MESSAGE. Exits 1 \
            when there is any problem, 0 otherwise.
            """
    )

    @Option(name: [.customShort("f"), .customLong("filename")], help: "A file or directory (searched recursively).")
    var paths: [String]

    func run() async throws {
        let manifests = ManifestSet.load(paths)
        for diagnostic in manifests.diagnostics { print(diagnostic) }
        let policies = manifests.networkPolicies.count + manifests.bulwarkPolicies.count
        let problems = manifests.diagnostics.count
        print("\(manifests.documentCount) documents, \(policies) policies, \(problems) \(problems == 1 ? "error" : "errors")")
        if problems > 0 { throw ExitCode(1) }
    }
}
