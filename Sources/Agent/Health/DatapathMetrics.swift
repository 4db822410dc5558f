import Datapath
import DataplaneModel
import Synchronization

/// Reads the datapath at scrape time: per-rule counters become per-policy drop/audit metrics, map counts fill ratios,
/// and the copy tables' overflow is reported.
///
/// Why at scrape time: the BPF counters are the source of truth and are cheap to read; copying them on a timer
/// would only add staleness. Prometheus counters only go up, so each scrape adds the growth since the last one.
public final class DatapathMetrics: Sendable {
    private struct State {
        var rules: [RuleID: RuleInfo] = [:]
        var seen: [RuleKey: UInt64] = [:]
    }

    private struct RuleKey: Hashable {
        var rule: RuleID
        var verdict: DatapathVerdict
    }

    private let state = Mutex(State())
    private let metrics: AgentMetrics

    public init(metrics: AgentMetrics) {
        self.metrics = metrics
    }

    /// Remembers what each rule id means after a reconcile, so drops are labelled with the policy that decided.
    public func update(rules: [RuleID: RuleInfo]) {
        state.withLock { $0.rules = rules }
    }

    /// Reads the counters and adds their growth to the drop/audit metrics, and sets the map fill ratios and the copy
    /// tables' overflow.
    public func collect(from datapath: Datapath) {
        for usage in (try? datapath.usage()) ?? [] { metrics.setMapFill(map: usage.map, ratio: usage.fillRatio) }
        for overflow in datapath.copyTableOverflow() {
            metrics.setCopyTableOverflow(table: overflow.table, entries: overflow.entries)
        }
        guard let counters = try? datapath.counters() else { return }
        state.withLock { state in
            for counter in counters where counter.verdict != .allow {
                let key = RuleKey(rule: counter.rule, verdict: counter.verdict)
                let growth = counter.packets &- (state.seen[key] ?? 0)
                state.seen[key] = counter.packets
                guard growth > 0, growth < UInt64(Int.max) else { continue }
                let policy = state.rules[counter.rule]?.policy ?? "default"
                metrics.addVerdicts(
                    policy: policy, dropped: counter.verdict == .deny ? Int(growth) : 0,
                    audited: counter.verdict == .audit ? Int(growth) : 0)
            }
        }
    }
}
