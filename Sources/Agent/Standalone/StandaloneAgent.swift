import Datapath
import Foundation
import Logging
import Manifests
import ServiceLifecycle

/// Standalone mode: the same engine as the cluster agent, fed from a folder of YAML files instead of the API server.
///
/// Pods in the folder name their interface with the `bulwark.dev/interface` annotation (or are found by the route to
/// `status.podIP`); every pod is treated as local. The folder is re-read whenever a file changes; status is printed
/// and written to `DIR/status/`.
public struct StandaloneAgent: Service {
    public struct Options: Sendable {
        public var directory: String
        public var pinRoot: String
        /// `HOST:PORT` for `/healthz`, `/readyz` and `/metrics`; nil disables the endpoint.
        public var bindAddress: String?
        public var nodeName: String
        /// Where `names.json` goes for `bulwark observe`/`inspect`.
        public var stateDirectory: String

        public init(
            directory: String, pinRoot: String = Datapath.defaultPinRoot, bindAddress: String? = nil,
            nodeName: String = "standalone", stateDirectory: String = "/run/bulwark"
        ) {
            self.directory = directory
            self.pinRoot = pinRoot
            self.bindAddress = bindAddress
            self.nodeName = nodeName
            self.stateDirectory = stateDirectory
        }
    }

    private let options: Options
    private let logger: Logger
    private let output: @Sendable (String) -> Void

    /// - Parameter output: receives status lines and load problems (stdout in the CLI).
    public init(options: Options, logger: Logger, output: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.logger = logger
        self.output = output
    }

    public func run() async throws {
        let datapath = try Datapath(pinRoot: options.pinRoot)
        let reconciler = NodeReconciler(node: nil, datapath: datapath, logger: logger)
        let metrics = AgentMetrics()
        let datapathMetrics = DatapathMetrics(metrics: metrics)
        let health = HealthState()
        let server = try options.bindAddress.map { address in
            try HTTPEndpointServer(address: address) { path in
                if path == "/metrics" { datapathMetrics.collect(from: datapath) }
                return health.respond(path: path, metrics: metrics)
            }
        }
        server?.start()
        defer { server?.stop() }
        health.markSynced()

        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let watcher = Task {
            for await _ in DirectoryWatcher(path: options.directory).changes() { wake.yield() }
        }
        // Periodic resync, like controller-runtime's SyncPeriod: repairs drift (an interface re-created, a map
        // edited by hand) and is the reconcile loop's liveness heartbeat while nothing changes.
        let resync = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(30))
                await reconciler.requestDriftCheck()
                wake.yield()
            }
        }
        defer {
            watcher.cancel()
            resync.cancel()
        }
        let statusWriter = StatusFileWriter(
            directory: options.directory + "/status", node: options.nodeName, output: output)
        var lastProblems: [Diagnostic] = []
        var lastNames = NodeNames()
        var retry: Task<Void, Never>?
        wake.yield()
        for await _ in wakeups.cancelOnGracefulShutdown() {
            let loaded = ManifestSet.load([options.directory], skipping: ["status"])
            if loaded.diagnostics != lastProblems {
                loaded.diagnostics.forEach { output("error: \($0)") }
                lastProblems = loaded.diagnostics
            }
            await reconciler.replaceAll(
                with: ClusterObjects(
                    pods: loaded.pods, namespaces: loaded.namespaces, networkPolicies: loaded.networkPolicies,
                    bulwarkPolicies: loaded.bulwarkPolicies, services: loaded.services,
                    endpointSlices: loaded.endpointSlices))
            let outcome = await reconciler.reconcile()
            metrics.reconciled(
                duration: outcome.duration, succeeded: outcome.succeeded,
                mapOperations: outcome.report?.mapOperations ?? 0)
            metrics.setProgrammedEntries(outcome.compiled.policies.values.reduce(0) { $0 + $1.programmedEntries })
            health.recordProgramming(error: outcome.programmingError)
            datapathMetrics.update(rules: outcome.compiled.desired.rules)
            let names = NodeNames(outcome.compiled)
            if names != lastNames {
                try? names.write(to: options.stateDirectory + "/names.json")
                lastNames = names
            }
            do {
                try statusWriter.write(outcome)
            } catch {
                logger.error("writing status files failed", metadata: ["error": "\(error)"])
            }
            retry?.cancel()
            // Pods whose interface is not there yet (or a failed program) are retried every second.
            if !outcome.unresolvedPods.isEmpty || !outcome.succeeded {
                retry = Task {
                    try? await Task.sleep(for: .seconds(1))
                    if !Task.isCancelled { wake.yield() }
                }
            }
        }
        retry?.cancel()
    }
}
