import Foundation
import Testing

/// The README is the user's only guide: its commands must be the repository's.
struct ReadmeTests {
    /// Every `hack/...` script the README tells the user to run, in order of first mention.
    private static func hackCommands(in readme: String) -> [String] {
        var seen: [String] = []
        for line in readme.split(separator: "\n") {
            for word in line.split(whereSeparator: { " `(".contains($0) }) where word.hasPrefix("hack/") {
                let command = String(word.prefix { !"`),:;".contains($0) })
                if !seen.contains(command) { seen.append(command) }
            }
        }
        return seen
    }

    @Test func everyScriptTheReadmeRunsExistsAndIsExecutable() throws {
        let commands = Self.hackCommands(in: try Repository.read("README.md"))
        #expect(commands.count >= 8)
        for command in commands where !command.hasSuffix("/") && !command.contains(".") {
            #expect(FileManager.default.isExecutableFile(atPath: Repository.path(command)), "\(command)")
        }
    }

    @Test func theKindStepsAreTheFourScriptsInTheirOrder() throws {
        let commands = Self.hackCommands(in: try Repository.read("README.md")).filter { $0.hasPrefix("hack/kind-") }
        let steps = commands.filter {
            ["hack/kind-up", "hack/kind-deploy", "hack/kind-e2e", "hack/kind-down"].contains($0)
        }
        #expect(steps == ["hack/kind-up", "hack/kind-deploy", "hack/kind-e2e", "hack/kind-down"])
        // kind-up names the cluster the README's kubectl context refers to.
        let common = try Repository.read("hack/kind-common")
        #expect(common.contains(#"KIND_CLUSTER_NAME="${KIND_CLUSTER_NAME:-bulwark}""#))
        #expect(try Repository.read("README.md").contains("--context kind-bulwark"))
    }

    @Test func theTwoSetUpCommandsAreTheOnesCIAndUsersRun() throws {
        let readme = try Repository.read("README.md")
        #expect(readme.contains("hack/demo    #"))
        #expect(readme.contains("hack/test    #"))
        #expect(try Repository.read(".ci/run").contains("exec hack/test"))
    }

    @Test func theManifestPathsTheReadmeAppliesExist() throws {
        let readme = try Repository.read("README.md")
        #expect(readme.contains("kubectl apply -f crds/ -f manifests/"))
        #expect(FileManager.default.fileExists(atPath: Repository.path("crds/bulwarkpolicy.yaml")))
        #expect(FileManager.default.fileExists(atPath: Repository.path("manifests/Kustomization")))
        #expect(FileManager.default.fileExists(atPath: Repository.path("manifests/cleanup/Kustomization")))
    }
}
