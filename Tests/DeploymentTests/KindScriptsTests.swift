import Foundation
import Testing
import YAML

/// The kind workflow cannot run here (no container engine); these tests check what can be checked without one.
@Suite("hack/kind-*: scripts and cluster config")
struct KindScriptsTests {
    static let scripts = ["hack/kind-up", "hack/kind-deploy", "hack/kind-e2e", "hack/kind-down"]

    @Test(
        "shellcheck hack/kind-* passes", .enabled(if: Command.find("shellcheck") != nil, "shellcheck is not installed"))
    func shellcheckClean() throws {
        let files = try Repository.entries(of: "hack").filter { $0.hasPrefix("kind-") }.map { "hack/\($0)" }
        #expect(Set(Self.scripts).isSubset(of: files))
        let result = try Command.run(
            try #require(Command.find("shellcheck")), files, currentDirectory: Repository.root.path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test("every script is executable, runs in strict mode and uses the shared helpers", arguments: scripts)
    func strictMode(script: String) throws {
        #expect(FileManager.default.isExecutableFile(atPath: Repository.path(script)))
        let text = try Repository.read(script)
        #expect(text.hasPrefix("#!/usr/bin/env bash\n"))
        #expect(text.contains("\nset -euo pipefail\n"))
        #expect(text.contains("source \"$(dirname \"${BASH_SOURCE[0]}\")/kind-common\""))
    }

    @Test(
        "a script names every missing tool with where to get it, before doing anything",
        .enabled(if: Command.find("bash") != nil && Command.find("dirname") != nil))
    func missingToolsAreNamed() throws {
        // A PATH with only what the scripts need to start: bash, dirname, basename.
        let bin = Repository.path(".build-deployment-tests-bin-\(getpid())")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: bin) }
        for tool in ["bash", "dirname", "basename"] {
            try FileManager.default.createSymbolicLink(
                atPath: "\(bin)/\(tool)", withDestinationPath: try #require(Command.find(tool)))
        }
        for script in Self.scripts {
            let result = try Command.run("\(bin)/bash", [Repository.path(script)], environment: ["PATH": bin])
            #expect(result.status == 1, "\(script)")
            #expect(result.stderr.contains("kind not found on PATH. Install it: https://kind.sigs.k8s.io"), "\(script)")
            #expect(result.stderr.contains("docker not found on PATH"), "\(script)")
            if script != "hack/kind-down" {
                #expect(result.stderr.contains("kubectl not found on PATH"), "\(script)")
            }
            #expect(result.stdout.isEmpty, "\(script) must not start work: \(result.stdout)")
        }
    }

    @Test("the kind config is a v1alpha4 Cluster with workers and the pod CIDR kind-e2e relies on")
    func kindConfig() throws {
        let config = try #require(try Manifests.objects(inFile: "hack/kind-config.yaml").first)
        #expect(config.kind == "Cluster")
        #expect(config.apiVersion == "kind.x-k8s.io/v1alpha4")
        let roles = config["nodes"]?.arrayValue?.compactMap { $0["role"]?.stringValue } ?? []
        #expect(roles.filter { $0 == "control-plane" }.count == 1)
        #expect(roles.filter { $0 == "worker" }.count >= 2, "probes must cross nodes")
        #expect(config["networking"]?["disableDefaultCNI"]?.boolValue != true, "kindnet stays the CNI")
        let podSubnet = try #require(config["networking"]?["podSubnet"]?.stringValue)
        #expect(try Repository.read("hack/kind-e2e-scenarios").contains("cidr: \(podSubnet)"))
    }

    @Test("the examples scenario's table has a cell per source and column, and a pod always reaches itself")
    func examplesTableIsWellFormed() throws {
        let text = try Repository.read("hack/kind-e2e-examples")
        let start = try #require(text.range(of: "from\\to               "))
        let lines = text[start.lowerBound...].split(separator: "\n").prefix { $0 != "EOF" }
        let columns = lines[lines.startIndex].split(separator: " ").dropFirst().map {
            String($0.split(separator: ":")[0])
        }
        #expect(columns.count == 7)
        for line in lines.dropFirst() {
            let cells = line.split(separator: " ").map(String.init)
            #expect(
                cells.count == columns.count + 1 && cells.dropFirst().allSatisfy { $0 == "." || $0 == "X" }, "\(line)")
            let source = String(cells[0].split(separator: "/").last ?? "")
            for (column, cell) in zip(columns, cells.dropFirst()) where column == source {
                #expect(cell == ".", "\(source) reaching itself")
            }
        }
    }

    @Test(
        "every example policy kind-e2e applies is in examples/",
        .enabled(if: FileManager.default.fileExists(atPath: Repository.path("examples")), "no examples/ yet"))
    func examplesExist() throws {
        let text = try Repository.read("hack/kind-e2e-examples")
        let list = try #require(text.firstMatch(of: /EXAMPLE_POLICIES="([^"]+)"/)).output.1
        let files = list.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(files.count == 6)
        for file in files {
            #expect(FileManager.default.fileExists(atPath: Repository.path("examples/\(file)")), "examples/\(file)")
        }
    }

    @Test("every expected truth table of kind-e2e has nine rows of nine cells and a connected diagonal")
    func expectedTablesAreWellFormed() throws {
        let text = try Repository.read("hack/kind-e2e-scenarios")
        let tables = text.components(separatedBy: "from\\to x/a x/b x/c y/a y/b y/c z/a z/b z/c\n").dropFirst()
        #expect(tables.count >= 7)
        for table in tables {
            let rows = table.split(separator: "\n").prefix(9).map { $0.split(separator: " ").map(String.init) }
            #expect(rows.map { $0.first ?? "" } == ["x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c"])
            for (index, row) in rows.enumerated() {
                #expect(row.count == 10 && row.dropFirst().allSatisfy { $0 == "." || $0 == "X" }, "\(row)")
                #expect(row.count == 10 && row[index + 1] == ".", "a pod always reaches itself: \(row)")
            }
        }
    }
}
