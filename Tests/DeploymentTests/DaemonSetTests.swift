import Testing
import YAML

@Suite("DaemonSet: security context, mounts, probes, rollout")
struct DaemonSetTests {
    let objects: [ManifestObject]
    let daemonSet: ManifestObject
    let pod: JSONValue
    let agent: JSONValue

    init() throws {
        objects = try Manifests.install()
        daemonSet = try Manifests.single(kind: "DaemonSet", name: "bulwark", in: objects)
        pod = try #require(daemonSet["spec"]?["template"]?["spec"])
        let containers = try #require(pod["containers"]?.arrayValue)
        try #require(containers.count == 1, "one container, the agent")
        agent = containers[0]
    }

    /// The value of a `--flag=value` argument of the agent.
    func argument(_ flag: String) -> String? {
        let prefix = "--\(flag)="
        return agent["args"]?.stringArray?.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    @Test("the agent runs without privileged mode, with exactly BPF, NET_ADMIN and PERFMON added to nothing")
    func capabilitiesInsteadOfPrivileged() {
        let security = agent["securityContext"]
        #expect(security?["privileged"]?.boolValue != true)
        #expect(security?["allowPrivilegeEscalation"]?.boolValue == false)
        #expect(security?["readOnlyRootFilesystem"]?.boolValue == true)
        #expect(security?["capabilities"]?["drop"]?.stringArray == ["ALL"])
        let added = security?["capabilities"]?["add"]?.stringArray ?? []
        #expect(added.sorted() == ["BPF", "NET_ADMIN", "PERFMON"])
        #expect(!added.contains("SYS_ADMIN"))
        #expect(pod["hostPID"]?.boolValue != true)
        #expect(pod["hostIPC"]?.boolValue != true)
    }

    @Test("the agent runs as UID 0 (owner of the host's bpffs) under the runtime's default seccomp profile")
    func identityAndSeccomp() {
        #expect(agent["securityContext"]?["runAsUser"]?.intValue == 0)
        #expect(agent["securityContext"]?["runAsNonRoot"]?.boolValue == false)
        let seccomp = agent["securityContext"]?["seccompProfile"] ?? pod["securityContext"]?["seccompProfile"]
        #expect(seccomp?["type"]?.stringValue == "RuntimeDefault")
    }

    @Test("the pod shares the host network, runs on every node and is node-critical")
    func hostNetworkEveryNode() {
        #expect(pod["hostNetwork"]?.boolValue == true)
        #expect(pod["priorityClassName"]?.stringValue == "system-node-critical")
        let tolerations = pod["tolerations"]?.arrayValue ?? []
        let tolerateEverything = tolerations.contains {
            $0["operator"]?.stringValue == "Exists" && $0["key"] == nil && $0["effect"] == nil
        }
        #expect(tolerateEverything, "a toleration with operator Exists and no key or effect tolerates every taint")
        #expect(pod["serviceAccountName"]?.stringValue == "bulwark-agent")
    }

    @Test("NODE_NAME comes from the downward API's spec.nodeName")
    func nodeNameFromDownwardAPI() throws {
        let env = agent["env"]?.arrayValue ?? []
        let nodeName = try #require(env.first { $0["name"]?.stringValue == "NODE_NAME" })
        #expect(nodeName["valueFrom"]?["fieldRef"]?["fieldPath"]?.stringValue == "spec.nodeName")
        #expect(nodeName["value"] == nil)
    }

    @Test("the only host path is /sys/fs/bpf, mounted with host-to-container propagation, and holds the bpf root")
    func bpffsIsTheOnlyHostPath() throws {
        let hostPaths = (pod["volumes"]?.arrayValue ?? []).filter { $0["hostPath"] != nil }
        #expect(hostPaths.map { $0["hostPath"]?["path"]?.stringValue } == ["/sys/fs/bpf"])
        let volume = try #require(hostPaths.first)
        #expect(volume["hostPath"]?["type"]?.stringValue == "Directory")

        let mounts = (agent["volumeMounts"]?.arrayValue ?? []).filter { $0["name"] == volume["name"] }
        let mount = try #require(mounts.first)
        #expect(mounts.count == 1)
        #expect(mount["mountPropagation"]?.stringValue == "HostToContainer")
        #expect(mount["readOnly"]?.boolValue != true, "the agent pins programs and maps there")
        let mountPath = try #require(mount["mountPath"]?.stringValue)
        #expect(!mountPath.hasPrefix("/sys/"), "the default AppArmor profile denies writes under /sys")
        let bpfRoot = try #require(argument("bpf-root"))
        #expect(bpfRoot.hasPrefix(mountPath + "/"), "--bpf-root \(bpfRoot) lies inside the bpffs mount \(mountPath)")
    }

    @Test("the state directory is a writable, memory-backed emptyDir; the root filesystem stays read-only")
    func stateDirectoryIsWritable() throws {
        let stateDirectory = try #require(argument("state-dir"))
        let mount = try #require(
            agent["volumeMounts"]?.arrayValue?.first { $0["mountPath"]?.stringValue == stateDirectory })
        #expect(mount["readOnly"]?.boolValue != true)
        let volume = try #require(pod["volumes"]?.arrayValue?.first { $0["name"] == mount["name"] })
        #expect(volume["emptyDir"]?["medium"]?.stringValue == "Memory")
        #expect(volume["emptyDir"]?["sizeLimit"] != nil, "memory-backed volumes count against the pod's memory")
    }

    @Test("the pod's namespace, name and agent label reach the agent (Lease namespace, holder, live-agent selector)")
    func leaderElectionInputs() throws {
        let env = agent["env"]?.arrayValue ?? []
        func field(_ name: String) -> String? {
            env.first { $0["name"]?.stringValue == name }?["valueFrom"]?["fieldRef"]?["fieldPath"]?.stringValue
        }
        #expect(field("POD_NAMESPACE") == "metadata.namespace")
        #expect(field("POD_NAME") == "metadata.name")
        let labels = daemonSet["spec"]?["template"]?["metadata"]?["labels"]
        #expect(labels?["app.kubernetes.io/name"]?.stringValue == "bulwark")
    }

    @Test("liveness, readiness and startup probe /healthz and /readyz on the agent's bind port")
    func probesUseTheHealthEndpoints() throws {
        let bindAddress = try #require(argument("bind-address"))
        let bindPort = try #require(bindAddress.split(separator: ":").last.flatMap { Int64($0) })
        let ports = agent["ports"]?.arrayValue ?? []
        func resolve(_ port: JSONValue?) -> Int64? {
            if let number = port?.intValue { return number }
            return ports.first { $0["name"] == port }?["containerPort"]?.intValue
        }
        let expected = ["livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"]
        for (probe, path) in expected {
            let get = agent[probe]?["httpGet"]
            #expect(get?["path"]?.stringValue == path, "\(probe)")
            #expect(resolve(get?["port"]) == bindPort, "\(probe) targets the port the agent listens on")
        }
    }

    @Test("updates replace one node's agent at a time and never run two agents on a node")
    func rollingUpdateKeepsOneAgentPerNode() {
        let strategy = daemonSet["spec"]?["updateStrategy"]
        #expect(strategy?["type"]?.stringValue == "RollingUpdate")
        #expect(strategy?["rollingUpdate"]?["maxUnavailable"]?.intValue == 1)
        #expect(strategy?["rollingUpdate"]?["maxSurge"]?.intValue == 0)
    }

    @Test("resources request the measured footprint and limit memory above it, without a CPU limit")
    func resourcesFollowTheFootprint() throws {
        let resources = try #require(agent["resources"])
        #expect(resources["requests"]?["memory"]?.stringValue == "72Mi")
        #expect(resources["requests"]?["cpu"]?.stringValue == "50m")
        #expect(resources["limits"]?["memory"]?.stringValue == "256Mi")
        #expect(resources["limits"]?["cpu"] == nil)
    }

    @Test("the image is the kustomize-overridable name bulwark, and the agent command is `bulwark agent`")
    func imageAndCommand() {
        #expect(agent["image"]?.stringValue == "bulwark:dev")
        #expect(agent["args"]?[0]?.stringValue == "agent")
        #expect(agent["command"] == nil, "the image's entrypoint is the bulwark binary")
    }

    @Test("the cleanup DaemonSet runs `bulwark cleanup` on the agent's bpf root with the agent's capabilities")
    func cleanupMatchesTheAgent() throws {
        let cleanup = try Manifests.single(
            kind: "DaemonSet", name: "bulwark-cleanup",
            in: Manifests.objects(inFile: "manifests/cleanup/daemonset.yaml")
        )
        let spec = try #require(cleanup["spec"]?["template"]?["spec"])
        let step = try #require(spec["initContainers"]?[0])
        #expect(step["args"]?.stringArray == ["cleanup", "--bpf-root=\(try #require(argument("bpf-root")))"])
        #expect(
            step["securityContext"]?["capabilities"]?["add"]?.stringArray?.sorted()
                == agent["securityContext"]?["capabilities"]?["add"]?.stringArray?.sorted(),
            "cleanup loads the same datapath object as the agent")
        #expect(step["securityContext"]?["capabilities"]?["drop"]?.stringArray == ["ALL"])
        #expect(step["securityContext"]?["privileged"]?.boolValue != true)
        #expect(spec["automountServiceAccountToken"]?.boolValue == false)
        #expect(step["volumeMounts"]?[0]?["mountPath"] == agent["volumeMounts"]?[0]?["mountPath"])
        let agentHostPaths = (pod["volumes"]?.arrayValue ?? []).filter { $0["hostPath"] != nil }
        #expect(spec["volumes"] == .array(agentHostPaths), "the same bpffs volume, nothing else")
    }
}
