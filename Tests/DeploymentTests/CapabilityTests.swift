import Foundation
import Synchronization
import Testing

/// Ties the DaemonSet's capability list to the kernel: with exactly those capabilities (and no_new_privs, as the
/// pod runs), root can load a TC program that uses every map type the datapath uses, pin it, create the clsact qdisc
/// and attach the program to a veth; without BPF or without NET_ADMIN it cannot.
///
/// Two objects are loaded: the repository's own datapath (`bpf/`, with map pinning by name turned off so that every
/// pin lands in the test's own directory), and a probe that uses each map type the datapath relies on (hash, LPM trie,
/// per-CPU array, LRU hash, ring buffer) in one `tc` program, whatever state `bpf/` is in.
@Suite("Capabilities: the DaemonSet's list is enough, and each of BPF and NET_ADMIN is needed")
struct CapabilityTests {
    static let tools = ["setpriv", "bpftool", "tc", "ip", "clang"]
    static let canRun = getuid() == 0 && tools.allSatisfy { Command.find($0) != nil }

    static let probeSource = """
        #include <linux/bpf.h>
        #include <linux/pkt_cls.h>
        #include <bpf/bpf_helpers.h>
        struct lpm_key { __u32 prefixlen; __u32 addr; };
        struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16);
                 __type(key, __u64); __type(value, __u32); } policy SEC(".maps");
        struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 16); __uint(map_flags, BPF_F_NO_PREALLOC);
                 __type(key, struct lpm_key); __type(value, __u32); } ipcache SEC(".maps");
        struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 4);
                 __type(key, __u32); __type(value, __u64); } counters SEC(".maps");
        struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 64);
                 __type(key, __u64); __type(value, __u64); } conntrack SEC(".maps");
        struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
        SEC("tc") int probe(struct __sk_buff *skb) {
            struct lpm_key address = { .prefixlen = 32, .addr = skb->priority };
            if (bpf_map_lookup_elem(&ipcache, &address)) return TC_ACT_SHOT;
            __u32 slot = 0; __u64 *count = bpf_map_lookup_elem(&counters, &slot); if (count) *count += 1;
            __u64 flow = skb->hash; bpf_map_lookup_elem(&conntrack, &flow);
            __u64 rule = skb->mark;
            if (bpf_map_lookup_elem(&policy, &rule)) {
                __u32 *event = bpf_ringbuf_reserve(&events, sizeof(__u32), 0);
                if (event) { *event = 1; bpf_ringbuf_submit(event, 0); }
                return TC_ACT_SHOT;
            }
            return TC_ACT_OK;
        }
        char LICENSE[] SEC("license") = "GPL";
        """

    /// The capabilities the DaemonSet adds to the agent container.
    static func daemonSetCapabilities() throws -> [String] {
        let daemonSet = try Manifests.single(kind: "DaemonSet", name: "bulwark", in: Manifests.install())
        let agent = daemonSet["spec"]?["template"]?["spec"]?["containers"]?[0]
        return try #require(agent?["securityContext"]?["capabilities"]?["add"]?.stringArray)
    }

    enum Program { case probe, datapath }

    /// The capabilities the uninstall helper (`manifests/cleanup/`) adds to its `bulwark cleanup` step.
    static func cleanupCapabilities() throws -> [String] {
        let cleanup = try Manifests.single(
            kind: "DaemonSet", name: "bulwark-cleanup",
            in: Manifests.objects(inFile: "manifests/cleanup/daemonset.yaml"))
        let step = cleanup["spec"]?["template"]?["spec"]?["initContainers"]?[0]
        return try #require(step?["securityContext"]?["capabilities"]?["add"]?.stringArray)
    }

    /// A scratch veth whose host side a program attaches to, a pin directory and the compiled object; all removed by
    /// `tearDown`. Names carry the pid and a counter so concurrent runs never collide.
    final class Sandbox {
        static let counter = Atomic<Int>(0)
        let name: String
        let pinDirectory: String
        let sources: String
        let object: String

        init(_ program: Program) throws {
            let number = Self.counter.add(1, ordering: .relaxed).newValue
            name = "bwdc\(getpid() % 100_000)\(number)"
            pinDirectory = "/sys/fs/bpf/bulwark-deployment-test-\(getpid())-\(number)"
            sources = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-bpf").path
            object = sources + ".o"
            try Self.compile(program, in: sources, to: object)
            try Self.check("ip", ["netns", "add", name])
            try Self.check(
                "ip", ["link", "add", "\(name)h", "type", "veth", "peer", "name", "\(name)p", "netns", name])
            try Self.check("ip", ["link", "set", "\(name)h", "up"])
            try FileManager.default.createDirectory(atPath: pinDirectory, withIntermediateDirectories: false)
        }

        /// Builds the object like BPFObjectPlugin does (same clang flags), from a scratch copy of the sources.
        static func compile(_ program: Program, in directory: String, to object: String) throws {
            let files = FileManager.default
            switch program {
            case .probe:
                try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try CapabilityTests.probeSource.write(
                    toFile: directory + "/bulwark.bpf.c", atomically: true, encoding: .utf8)
            case .datapath:
                try files.copyItem(atPath: Repository.path("bpf"), toPath: directory)
                for file in files.enumerator(atPath: directory)?.compactMap({ $0 as? String }) ?? []
                where file.hasSuffix(".h") || file.hasSuffix(".c") {
                    let path = directory + "/" + file
                    let text = try String(contentsOfFile: path, encoding: .utf8)
                    try text.replacingOccurrences(of: "LIBBPF_PIN_BY_NAME", with: "LIBBPF_PIN_NONE")
                        .write(toFile: path, atomically: true, encoding: .utf8)
                }
            }
            try check(
                "clang",
                [
                    "-g", "-O2", "-target", "bpf", "-Wall", "-D__TARGET_ARCH_x86", "-I", directory + "/include",
                    "-idirafter", "/usr/include/x86_64-linux-gnu", "-c", directory + "/bulwark.bpf.c", "-o", object,
                ])
        }

        func tearDown() {
            _ = try? Command.run(Command.find("ip") ?? "/usr/sbin/ip", ["link", "del", "\(name)h"])
            _ = try? Command.run(Command.find("ip") ?? "/usr/sbin/ip", ["netns", "del", name])
            try? FileManager.default.removeItem(atPath: pinDirectory)  // unlinking pins frees unattached programs
            try? FileManager.default.removeItem(atPath: object)
            try? FileManager.default.removeItem(atPath: sources)
        }

        static func check(_ tool: String, _ arguments: [String]) throws {
            let result = try Command.run(try #require(Command.find(tool)), arguments)
            guard result.status == 0 else { throw TestFailure("\(tool) \(arguments): \(result.stderr)") }
        }

        /// Runs a tool as root restricted to `capabilities` (bounding set) with no_new_privs, like the pod.
        func restricted(_ capabilities: [String], _ tool: String, _ arguments: [String]) throws -> CommandResult {
            let bounding = (["-all"] + capabilities.map { "+\($0.lowercased())" }).joined(separator: ",")
            return try Command.run(
                try #require(Command.find("setpriv")),
                [
                    "--bounding-set=\(bounding)", "--inh-caps=-all", "--no-new-privs", "--",
                    try #require(Command.find(tool)),
                ]
                    + arguments)
        }

        /// Load and pin, create clsact, attach: the agent's first program on a new pod, step by step.
        func loadAndAttach(with capabilities: [String]) throws -> (load: CommandResult, attach: CommandResult?) {
            let load = try restricted(
                capabilities, "bpftool",
                ["prog", "loadall", object, "\(pinDirectory)/progs", "type", "tc", "pinmaps", "\(pinDirectory)/maps"])
            guard load.status == 0 else { return (load, nil) }
            let qdisc = try restricted(capabilities, "tc", ["qdisc", "add", "dev", "\(name)h", "clsact"])
            guard qdisc.status == 0 else { return (load, qdisc) }
            let programs = try FileManager.default.contentsOfDirectory(atPath: "\(pinDirectory)/progs").sorted()
            let first = try #require(programs.first, "the object has no program")
            let filter = try restricted(
                capabilities, "tc",
                [
                    "filter", "add", "dev", "\(name)h", "ingress", "bpf", "direct-action", "object-pinned",
                    "\(pinDirectory)/progs/\(first)",
                ])
            return (load, filter)
        }
    }

    @Test(
        "the DaemonSet's capabilities load, pin and attach the datapath's programs and every map type it uses",
        .enabled(if: canRun, "needs root, setpriv, bpftool, tc, ip and clang"),
        arguments: [Program.datapath, .probe])
    func daemonSetCapabilitiesSuffice(program: Program) throws {
        let sandbox = try Sandbox(program)
        defer { sandbox.tearDown() }
        let capabilities = try Self.daemonSetCapabilities()
        let (load, attach) = try sandbox.loadAndAttach(with: capabilities)
        #expect(load.status == 0, "bpftool prog loadall: \(load.stderr.suffix(2_000))")
        #expect(attach?.status == 0, "tc: \(attach?.stderr ?? "not reached")")
        let filters = try Command.run(
            try #require(Command.find("tc")), ["filter", "show", "dev", "\(sandbox.name)h", "ingress"])
        #expect(filters.stdout.contains("direct-action"), "a program is attached: \(filters.stdout)")

        // Uninstall with the cleanup DaemonSet's capabilities: detach.
        let detach = try sandbox.restricted(
            try Self.cleanupCapabilities(), "tc", ["qdisc", "del", "dev", "\(sandbox.name)h", "clsact"])
        #expect(detach.status == 0, "tc qdisc del: \(detach.stderr)")
    }

    @Test(
        "without BPF or without NET_ADMIN the agent could not program a pod",
        .enabled(if: canRun, "needs root, setpriv, bpftool, tc, ip and clang"),
        arguments: ["BPF", "NET_ADMIN"])
    func eachCapabilityIsNeeded(missing: String) throws {
        let sandbox = try Sandbox(.probe)
        defer { sandbox.tearDown() }
        let capabilities = try Self.daemonSetCapabilities().filter { $0 != missing }
        let (load, attach) = try sandbox.loadAndAttach(with: capabilities)
        #expect(load.status != 0 || (attach?.status ?? 1) != 0, "programming worked without \(missing)")
    }

    @Test(
        "with PERFMON the verifier skips Spectre mitigations, so the per-packet program is shorter",
        .enabled(if: canRun, "needs root, setpriv, bpftool, tc, ip and clang"))
    func perfmonAvoidsSpectreMitigations() throws {
        let commandLine = (try? String(contentsOfFile: "/proc/cmdline", encoding: .utf8)) ?? ""
        try #require(!commandLine.contains("mitigations=off"), "mitigations are off on this kernel: nothing to compare")
        func translatedSize(_ capabilities: [String]) throws -> Int {
            let sandbox = try Sandbox(.probe)
            defer { sandbox.tearDown() }
            let (load, _) = try sandbox.loadAndAttach(with: capabilities)
            try #require(load.status == 0, "\(load.stderr)")
            let show = try Command.run(
                try #require(Command.find("bpftool")),
                ["prog", "show", "pinned", "\(sandbox.pinDirectory)/progs/probe"])
            let size = show.stdout.firstMatch(of: /xlated (\d+)B/).flatMap { Int($0.output.1) }
            return try #require(size, "bpftool prog show: \(show.stdout)")
        }
        let withPerfmon = try translatedSize(["BPF", "NET_ADMIN", "PERFMON"])
        let withoutPerfmon = try translatedSize(["BPF", "NET_ADMIN"])
        #expect(withPerfmon < withoutPerfmon, "xlated \(withPerfmon) B with PERFMON, \(withoutPerfmon) B without")
    }
}
