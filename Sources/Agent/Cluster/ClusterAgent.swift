import Datapath
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import ServiceLifecycle
import Synchronization

/// `bulwark agent`: keeps this node's eBPF state equal to what the cluster's policies say, and reports it.
///
/// Data flows one way: informers (list+watch) -> incremental compiler -> datapath (program, attach) -> status
/// (this node's entry by server-side apply; the leader's summary and Events). One debounced "sync node" key drives
/// reconciles. Nothing is programmed before every cache has its initial list. SIGTERM stops the loops and leaves
/// programs attached and maps pinned, so enforcement continues while the agent is replaced.
public struct ClusterAgent: ServiceLifecycle.Service {
    public struct Options: Sendable {
        public var nodeName: String
        /// nil: `$KUBECONFIG`, `~/.kube/config`, then the in-cluster service account.
        public var kubeconfig: String?
        public var context: String?
        public var pinRoot: String
        public var bindAddress: String?
        public var stateDirectory: String
        /// Where the agent pods (and the leader Lease) live.
        public var agentNamespace: String
        /// Labels of the agent pods; the nodes running one are the nodes expected to report status.
        public var agentSelector: [String: String]
        /// Unique candidate name for leader election (the pod name in a cluster).
        public var identity: String
        public var resyncPeriod: Duration
        /// The longest wait between attempts to list or watch after a failure (the waits start at 0.8 s and double,
        /// with jitter, up to this). Also the worst case between the API server coming back after an outage and
        /// the agent retrying: lower it to catch up faster at the cost of more requests to a struggling server.
        public var maxReconnectBackoff: Duration

        public init(
            nodeName: String, kubeconfig: String? = nil, context: String? = nil,
            pinRoot: String = Datapath.defaultPinRoot, bindAddress: String? = "0.0.0.0:9808",
            stateDirectory: String = "/run/bulwark", agentNamespace: String = "bulwark-system",
            agentSelector: [String: String] = [
                "app.kubernetes.io/name": "bulwark", "app.kubernetes.io/component": "agent",
            ], identity: String? = nil,
            resyncPeriod: Duration = .seconds(30), maxReconnectBackoff: Duration = .seconds(30)
        ) {
            self.nodeName = nodeName
            self.kubeconfig = kubeconfig
            self.context = context
            self.pinRoot = pinRoot
            self.bindAddress = bindAddress
            self.stateDirectory = stateDirectory
            self.agentNamespace = agentNamespace
            self.agentSelector = agentSelector
            self.identity = identity ?? nodeName
            self.resyncPeriod = resyncPeriod
            self.maxReconnectBackoff = maxReconnectBackoff
        }
    }

    private let options: Options
    private let logger: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        let client = KubeClient(config: try ClientConfig.load(kubeconfig: options.kubeconfig, context: options.context))
        let datapath = try Datapath(pinRoot: options.pinRoot)
        let engine = Engine(
            options: options, client: client, datapath: datapath,
            reconciler: NodeReconciler(
                node: options.nodeName, nodeAddresses: HostAddresses.current(), datapath: datapath, logger: logger),
            logger: logger)
        let server = try options.bindAddress.map { address in
            try HTTPEndpointServer(address: address) { path in
                if path == "/metrics" { engine.datapathMetrics.collect(from: datapath) }
                return engine.health.respond(path: path, metrics: engine.metrics)
            }
        }
        server?.start()
        defer { server?.stop() }
        logger.info("agent starting", metadata: ["node": "\(options.nodeName)", "server": "\(client.config.server)"])

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await engine.runInformers() }
            group.addTask { await engine.runReconcileLoop() }
            group.addTask { await engine.runStatusLoop() }
            group.addTask { await engine.runResync() }
            group.addTask { await engine.runLeaderElection() }
            await withGracefulShutdownHandler {
                await group.next()
            } onGracefulShutdown: {
                Task { await engine.queue.shutDown() }
            }
            group.cancelAll()
            await engine.queue.shutDown()
        }
        logger.info("agent stopped; programs stay attached and maps pinned")
    }
}

/// The agent's moving parts and the loops that connect them.
private final class Engine: Sendable {
    let options: ClusterAgent.Options
    let client: KubeClient
    let datapath: Datapath
    let reconciler: NodeReconciler
    let informers: Informers
    let queue = WorkQueue<String>(debounce: .milliseconds(10), maxDebounce: .milliseconds(100))
    /// The latest outcome waiting for its status writes; older ones are superseded, never written.
    let outcomes = AsyncStream.makeStream(
        of: (sequence: Int, outcome: ReconcileOutcome).self, bufferingPolicy: .bufferingNewest(1))
    /// The sequence number of the newest outcome handed to the status loop, so it can tell one is waiting.
    let newestOutcome = Atomic<Int>(0)
    let metrics = AgentMetrics()
    let datapathMetrics: DatapathMetrics
    let health = HealthState()
    let nodeStatus: NodeStatusReporter
    let leader: LeaderStatusReporter
    let logger: Logger
    static let syncKey = "node"

    init(
        options: ClusterAgent.Options, client: KubeClient, datapath: Datapath, reconciler: NodeReconciler,
        logger: Logger
    ) {
        self.options = options
        self.client = client
        self.datapath = datapath
        self.reconciler = reconciler
        self.logger = logger
        informers = Informers(
            client: client, reconnectBackoff: Backoff(maximum: options.maxReconnectBackoff), logger: logger)
        datapathMetrics = DatapathMetrics(metrics: metrics)
        nodeStatus = NodeStatusReporter(client: client, node: options.nodeName, logger: logger)
        leader = LeaderStatusReporter(
            client: client, informers: informers, agentNamespace: options.agentNamespace,
            agentSelector: options.agentSelector,
            recorder: EventRecorder(
                client: client, reportingController: "bulwark.dev/agent",
                reportingInstance: "bulwark-agent-\(options.nodeName)", logger: logger),
            logger: logger)
    }

    func runInformers() async {
        await informers.run(
            deliver: { change in
                if await self.reconciler.apply([change]) { await self.queue.add(Self.syncKey) }
            },
            listed: { resource, relist in
                if relist { self.metrics.watchRestarted(resource: resource) }
                await self.queue.add(Self.syncKey)
            })
    }

    func runReconcileLoop() async {
        while let key = await queue.next() {
            // Never program from a half-filled cache; the last initial list re-queues the key.
            guard informers.allReady else {
                await queue.done(key)
                continue
            }
            health.markSynced()
            let outcome = await reconciler.reconcile()
            metrics.reconciled(
                duration: outcome.duration, succeeded: outcome.succeeded,
                mapOperations: outcome.report?.mapOperations ?? 0)
            metrics.setProgrammedEntries(outcome.compiled.policies.values.reduce(0) { $0 + $1.programmedEntries })
            health.recordProgramming(error: outcome.programmingError)
            datapathMetrics.update(rules: outcome.compiled.desired.rules)
            await leader.update(results: outcome.compiled.policies)
            let sequence = newestOutcome.add(1, ordering: .relaxed).newValue
            outcomes.continuation.yield((sequence, outcome))
            await queue.done(key)
            if !outcome.succeeded || !outcome.unresolvedPods.isEmpty {
                await queue.add(key, after: .seconds(1))
            }
        }
        outcomes.continuation.finish()
    }

    /// Writes this node's status entries (and `names.json`) from the latest outcome, off the reconcile path: status
    /// round trips never delay programming, and a burst of reconciles costs one round of writes.
    func runStatusLoop() async {
        var lastNames = NodeNames()
        for await (sequence, outcome) in outcomes.stream {
            let names = NodeNames(outcome.compiled)
            if names != lastNames, (try? names.write(to: options.stateDirectory + "/names.json")) != nil {
                lastNames = names
            }
            let status = await nodeStatus.report(outcome, policies: informers.bulwarkPolicies) {
                self.newestOutcome.load(ordering: .relaxed) > sequence
            }
            if status.failed { await queue.add(Self.syncKey, after: .seconds(1)) }
        }
    }

    /// Periodic resync (controller-runtime's SyncPeriod): repairs drift and is the loop's liveness heartbeat.
    func runResync() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.resyncPeriod)
            await reconciler.requestDriftCheck()
            await queue.add(Self.syncKey)
        }
    }

    func runLeaderElection() async {
        let elector = LeaderElector(
            client: client,
            config: LeaderElectionConfig(
                leaseName: "bulwark-agent-leader", namespace: options.agentNamespace, identity: options.identity),
            logger: logger)
        await elector.run {
            await self.informers.waitUntilReady()
            while !Task.isCancelled {
                let succeeded = await self.leader.sync()
                try? await Task.sleep(for: succeeded ? .seconds(1) : .seconds(2))
            }
        }
    }
}
