import Prometheus

/// The agent's Prometheus metrics, registered once and updated by the reconciler and the watchers.
///
/// Why one type: metric names, help texts and label sets are the agent's public monitoring contract; keeping them
/// in one place keeps them consistent and documented.
public final class AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let reconcileSuccess: Counter
    private let reconcileFailure: Counter
    private let reconcileDuration: DurationHistogram
    private let programmedEntries: Gauge
    private let mapOperations: Counter

    private static var reconcileTotal: MetricNameDescriptor {
        name("reconcile", "total", "Node reconciles (compile, program, status), by result.")
    }
    private static var mapFill: MetricNameDescriptor {
        name("map_fill", "ratio", "Used entries / max entries per BPF map.")
    }
    private static var copyOverflow: MetricNameDescriptor {
        name(
            "copy_table_overflow", "entries",
            "Selectors or pod addresses without a way in their bucket of the inlined copy tables, by table (their"
                + " packets take the slower hash or trie lookup).")
    }
    private static var drops: MetricNameDescriptor {
        name("policy_drops", "total", "Packets dropped, by deciding policy (\"default\" when isolation denied it).")
    }
    private static var audits: MetricNameDescriptor {
        name("policy_audits", "total", "Packets an Audit-mode policy would have dropped.")
    }
    private static var watchRestarts: MetricNameDescriptor {
        name("watch_restarts", "total", "Watch streams restarted, by resource.")
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        reconcileSuccess = registry.makeCounter(descriptor: Self.reconcileTotal, labels: [("result", "success")])
        reconcileFailure = registry.makeCounter(descriptor: Self.reconcileTotal, labels: [("result", "error")])
        reconcileDuration = registry.makeDurationHistogram(
            descriptor: Self.name("reconcile_duration", "seconds", "Time to compile and program the datapath."),
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
            ])
        programmedEntries = registry.makeGauge(
            descriptor: Self.name("programmed_entries", "", "Policy map entries currently programmed on this node."))
        mapOperations = registry.makeCounter(
            descriptor: Self.name(
                "datapath_map_operations", "total",
                "BPF map writes and deletes made by reconciles (0 growth after a restart: state was re-adopted)."))
    }

    /// Records one reconcile and the map operations its programming took.
    public func reconciled(duration: Duration, succeeded: Bool, mapOperations operations: Int = 0) {
        (succeeded ? reconcileSuccess : reconcileFailure).increment()
        reconcileDuration.record(duration)
        mapOperations.increment(by: Int64(operations))
    }

    public func setProgrammedEntries(_ count: Int) { programmedEntries.set(Double(count)) }

    /// Fill ratio (0...1) of one BPF map; high values warn before a map is full.
    public func setMapFill(map: String, ratio: Double) {
        registry.makeGauge(descriptor: Self.mapFill, labels: [("map", map)]).set(ratio)
    }

    /// Entries one inlined copy table could not hold; above zero for long means its buckets are too few.
    public func setCopyTableOverflow(table: String, entries: Int) {
        registry.makeGauge(descriptor: Self.copyOverflow, labels: [("table", table)]).set(Double(entries))
    }

    /// Adds newly observed dropped or audited packets for one policy (deltas of the datapath's counters).
    public func addVerdicts(policy: String, dropped: Int, audited: Int) {
        if dropped > 0 {
            registry.makeCounter(descriptor: Self.drops, labels: [("policy", policy)]).increment(by: Int64(dropped))
        }
        if audited > 0 {
            registry.makeCounter(descriptor: Self.audits, labels: [("policy", policy)]).increment(by: Int64(audited))
        }
    }

    /// Counts a watch that had to restart (stream error, 410 Gone relist, server unavailable).
    public func watchRestarted(resource: String) {
        registry.makeCounter(descriptor: Self.watchRestarts, labels: [("resource", resource)]).increment()
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bulwark", metricName: metric, unitName: unit, helpText: help)
    }
}
