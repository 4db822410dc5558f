import Foundation
import Synchronization
import Testing

/// Runs the kind scripts against stand-ins for `kind`, `docker` and `kubectl` that record every call and answer like a
/// kind cluster would, to check the decisions the scripts make without a container engine.
@Suite("hack/kind-*: behaviour against a scripted cluster")
struct KindScriptBehaviourTests {
    static let canRun = Command.find("bash") != nil && Command.find("env") != nil

    /// A directory of fake tools placed first on PATH; `calls` holds one line per invocation.
    final class FakeCluster {
        static let counter = Atomic<Int>(0)
        let directory: String
        var calls: [String] {
            ((try? String(contentsOfFile: directory + "/calls", encoding: .utf8)) ?? "").split(separator: "\n").map(
                String.init)
        }

        init(kubectl: String) throws {
            let number = Self.counter.add(1, ordering: .relaxed).newValue
            directory =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("bulwark-fake-cluster-\(getpid())-\(number)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let kind = """
                #!/usr/bin/env bash
                echo "kind $*" >> "\(directory)/calls"
                case "$1 $2" in
                  "get clusters") echo bulwark ;;
                  "get nodes") printf 'bulwark-control-plane\\nbulwark-worker\\n' ;;
                esac
                """
            let docker = """
                #!/usr/bin/env bash
                echo "docker $*" >> "\(directory)/calls"
                case "$*" in
                  *"stat -f"*) echo bpf_fs ;;
                  *"command -v nft"*) exit 1 ;;
                esac
                exit 0
                """
            for (name, text) in [("kind", kind), ("docker", docker), ("kubectl", kubectl)] {
                try install(name, text)
            }
        }

        /// Writes an executable stand-in for `name`, replacing any earlier one.
        func install(_ name: String, _ text: String) throws {
            let path = "\(directory)/\(name)"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func run(_ script: String, _ environment: [String: String] = [:]) throws -> CommandResult {
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = directory + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            env["KIND_CLUSTER_NAME"] = "bulwark"
            env.merge(environment) { $1 }
            return try Command.run(try #require(Command.find("bash")), [Repository.path(script)], environment: env)
        }
    }

    /// kubectl for kind-up: kindnet logs its flag as "true" until the DaemonSet is patched, then "false".
    /// With `standaloneEnforcer`, kube-system also holds a kube-network-policies DaemonSet until it is deleted.
    static func kindnetKubectl(
        command: String, args: String, flagLine: Bool = true, standaloneEnforcer: Bool = false
    ) -> String {
        """
        #!/usr/bin/env bash
        here="$(dirname "$0")"
        echo "kubectl $*" >> "$here/calls"
        case "$*" in
          *"delete daemonset kube-network-policies"*) touch "$here/deleted" ;;
          *"get daemonset kube-network-policies"*)
            \(standaloneEnforcer ? "" : "exit 1")
            if [ -f "$here/deleted" ]; then exit 1; fi ;;
          *"logs daemonset/kindnet"*)
            \(flagLine ? "" : "exit 0")
            setting=true
            if [ -f "$here/patched" ]; then setting=false; fi
            printf 'I FLAG: --network-policy="%s"\\n' "$setting" ;;
          *"containers[0].name"*) printf kindnet-cni ;;
          *"containers[0].command"*) printf '%s' '\(command)' ;;
          *"containers[0].args"*) printf '%s' '\(args)' ;;
          *" patch "*) touch "$here/patched" ;;
        esac
        exit 0
        """
    }

    struct KindnetLayout: Sendable, CustomTestStringConvertible {
        var command: String
        var args: String
        /// Where the JSON patch adds the flag (below the container), and what it adds.
        var patchPath: String
        var patchValue: String
        var testDescription: String

        var expectedPatch: String {
            #"[{"op":"add","path":"/spec/template/spec/containers/0/\#(patchPath)","value":\#(patchValue)}]"#
        }
    }

    static let layouts = [
        KindnetLayout(
            command: "", args: "", patchPath: "command", patchValue: #"["/bin/kindnetd","--network-policy=false"]"#,
            testDescription: "image CMD only"),
        KindnetLayout(
            command: #"["/bin/kindnetd","--v=2"]"#, args: "", patchPath: "command/-",
            patchValue: #""--network-policy=false""#, testDescription: "flags in command"),
        KindnetLayout(
            command: "", args: #"["--v=2"]"#, patchPath: "args/-", patchValue: #""--network-policy=false""#,
            testDescription: "flags in args"),
    ]

    @Test(
        "kind-up turns kindnet's NetworkPolicy enforcer off wherever kindnetd takes its flags",
        .enabled(if: canRun), arguments: layouts)
    func kindUpDisablesKindnetPolicies(layout: KindnetLayout) throws {
        let cluster = try FakeCluster(kubectl: Self.kindnetKubectl(command: layout.command, args: layout.args))
        let result = try cluster.run("hack/kind-up")
        #expect(result.status == 0, "\(result.stderr)")
        let patches = cluster.calls.filter { $0.contains(" patch daemonset kindnet ") }
        let prefix = "kubectl --context kind-bulwark -n kube-system patch daemonset kindnet --type=json -p "
        #expect(patches == [prefix + layout.expectedPatch])
        #expect(result.stdout.contains("kindnet's embedded NetworkPolicy enforcer is off"))
        #expect(!cluster.calls.contains { $0.contains("delete daemonset") }, "no separate enforcer to delete")
        #expect(!cluster.calls.contains { $0.hasPrefix("kind create") }, "an existing cluster is reused")
    }

    @Test("kind-up leaves kindnet alone when it has no enforcer or when asked to keep it", .enabled(if: canRun))
    func kindUpLeavesKindnetAlone() throws {
        let old = try FakeCluster(kubectl: Self.kindnetKubectl(command: "", args: "", flagLine: false))
        let oldResult = try old.run("hack/kind-up")
        #expect(oldResult.status == 0, "\(oldResult.stderr)")
        #expect(oldResult.stdout.contains("has no embedded NetworkPolicy enforcer"))
        #expect(!old.calls.contains { $0.contains(" patch ") })

        let kept = try FakeCluster(kubectl: Self.kindnetKubectl(command: "", args: ""))
        let keptResult = try kept.run("hack/kind-up", ["BULWARK_KEEP_KINDNET_POLICIES": "1"])
        #expect(keptResult.status == 0, "\(keptResult.stderr)")
        #expect(!kept.calls.contains { $0.contains(" patch ") })
    }

    @Test(
        "kind-deploy builds, loads a content-tagged image, applies the CRD before the manifests and waits",
        .enabled(
            if: canRun && FileManager.default.fileExists(atPath: Repository.path("crds/bulwarkpolicy.yaml")),
            "needs crds/bulwarkpolicy.yaml"))
    func kindDeployOrder() throws {
        // kubectl records the overlay it is given, since kind-deploy removes it on exit.
        let kubectl = #"""
            #!/usr/bin/env bash
            here="$(dirname "$0")"
            echo "kubectl $*" >> "$here/calls"
            case "$*" in
              *"apply -k "*) cat "${@: -1}/kustomization.yaml" >> "$here/calls" ;;
            esac
            exit 0
            """#
        let cluster = try FakeCluster(kubectl: kubectl)
        let docker = """
            #!/usr/bin/env bash
            echo "docker $*" >> "\(cluster.directory)/calls"
            case "$*" in
              "info --format {{.Architecture}}") echo x86_64 ;;
              "image inspect"*) echo sha256:0123456789abcdef0123456789abcdef ;;
            esac
            exit 0
            """
        try cluster.install("docker", docker)
        let result = try cluster.run("hack/kind-deploy")
        #expect(result.status == 0, "\(result.stderr)")

        let calls = cluster.calls
        func position(_ prefix: String) -> Int? { calls.firstIndex { $0.hasPrefix(prefix) } }
        let steps = [
            "docker build --tag bulwark:dev ", "docker tag bulwark:dev bulwark:dev-0123456789ab",
            "kind load docker-image bulwark:dev-0123456789ab --name bulwark",
            "kubectl --context kind-bulwark apply -f \(Repository.root.path)/crds/",
            "kubectl --context kind-bulwark wait --for condition=established",
            "kubectl --context kind-bulwark apply -k ",
            "kubectl --context kind-bulwark -n bulwark-system rollout status daemonset/bulwark",
        ]
        let positions = steps.map(position)
        #expect(!positions.contains(nil), "missing step among \(calls)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "steps out of order: \(calls)")
        #expect(calls.contains("    newTag: dev-0123456789ab"), "the overlay sets the content tag")
        #expect(calls.contains("  - ../manifests"))
        let leftovers = try Repository.entries(of: ".").filter { $0.hasPrefix(".build-kind-overlay.") }
        #expect(leftovers.isEmpty, "the overlay is removed")
    }

    @Test("kind-up deletes a separate kube-network-policies DaemonSet and waits for its pods", .enabled(if: canRun))
    func kindUpDeletesStandaloneEnforcer() throws {
        let cluster = try FakeCluster(
            kubectl: Self.kindnetKubectl(command: "", args: "", flagLine: false, standaloneEnforcer: true))
        let result = try cluster.run("hack/kind-up")
        #expect(result.status == 0, "\(result.stderr)")
        let deletions = cluster.calls.filter { $0.contains(" delete ") }
        #expect(
            deletions == [
                "kubectl --context kind-bulwark -n kube-system delete daemonset kube-network-policies"
                    + " --cascade=foreground --wait=true"
            ])
        #expect(!cluster.calls.contains { $0.contains(" patch ") }, "this kindnetd embeds no enforcer")

        let kept = try FakeCluster(
            kubectl: Self.kindnetKubectl(command: "", args: "", flagLine: false, standaloneEnforcer: true))
        #expect(try kept.run("hack/kind-up", ["BULWARK_KEEP_KINDNET_POLICIES": "1"]).status == 0)
        #expect(!kept.calls.contains { $0.contains(" delete ") })
    }

    /// kubectl for kind-e2e: nine running pods, and every probe connects (as if no policy were enforced).
    static let openClusterKubectl = #"""
        #!/usr/bin/env bash
        case "$*" in
          *"logs daemonset/kindnet"*) echo 'I FLAG: --network-policy="false"' ;;
          *"get daemonset kube-network-policies"*) exit 1 ;;
          *"get pod "*"podIP"*)
            pod="$(printf '%s' "$*" | sed -E 's/.* -n ([xyz]) get pod ([abc]) .*/\1\2/')"
            case "$pod" in x*) subnet=1 ;; y*) subnet=2 ;; *) subnet=3 ;; esac
            case "$pod" in *a) host=11 ;; *b) host=12 ;; *) host=13 ;; esac
            printf '10.244.%s.%s' "$subnet" "$host" ;;
          *nodeName*) printf bulwark-worker ;;
          *apply*) cat >/dev/null; echo "configured" ;;
        esac
        exit 0
        """#

    @Test(
        "kind-e2e prints each truth table, names the pairs that differ and exits non-zero on a mismatch",
        .enabled(if: canRun))
    func kindE2EFailsOnMismatch() throws {
        let cluster = try FakeCluster(kubectl: Self.openClusterKubectl)
        let result = try cluster.run(
            "hack/kind-e2e",
            ["BULWARK_E2E_ATTEMPTS": "1", "BULWARK_E2E_ONLY": "^(no policies|BulwarkPolicy default-deny)"])
        #expect(result.status == 1)
        let output = result.stdout
        let baseline = try #require(output.range(of: "== no policies: everything connects"))
        let denyScenario = try #require(output.range(of: "== BulwarkPolicy default-deny ingress in x"))
        #expect(!output[baseline.upperBound..<denyScenario.lowerBound].contains("MISMATCH"), "no policy: all connect")
        #expect(output[denyScenario.upperBound...].contains("MISMATCH"))
        #expect(output.contains("  y/a -> x/b: expected X, got ."))
        #expect(!output.contains("  x/a -> x/a:"), "a pod reaching itself is never probed or reported")
        #expect(output.contains("hack/kind-e2e: 1 check(s) failed, 1 scenario(s) matched"), "the summary counts both")
        #expect(!output.contains("== NetworkPolicy"), "BULWARK_E2E_ONLY skips the other scenarios")
    }
}
