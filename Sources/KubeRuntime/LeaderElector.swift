import Foundation
import KubeClient
import KubeModel
import Logging
import Synchronization

/// Options for `LeaderElector` (client-go's leaderelection defaults: 15 s / 10 s / 2 s).
public struct LeaderElectionConfig: Sendable {
    public var leaseName: String
    public var namespace: String
    /// Unique per candidate, e.g. the pod name.
    public var identity: String
    /// How long a lease holds without renewal before others may take it.
    public var leaseDuration: Duration
    /// A leader that could not renew for this long stops leading (must be < leaseDuration).
    public var renewDeadline: Duration
    /// Pause between attempts to acquire or renew.
    public var retryPeriod: Duration
    /// Give the lease up when cancelled, so another candidate takes over at once instead of after expiry.
    public var releaseOnCancel: Bool

    public init(
        leaseName: String, namespace: String, identity: String, leaseDuration: Duration = .seconds(15),
        renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2), releaseOnCancel: Bool = true
    ) {
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.releaseOnCancel = releaseOnCancel
    }
}

/// Lease-based leader election over a `coordination.k8s.io/v1` Lease.
///
/// Acquire and renew are updates with the lease's resourceVersion (optimistic concurrency: of two candidates
/// racing, one gets 409 Conflict). Expiry is judged by the local clock: a lease counts as expired when its record
/// (holder, renewTime, resourceVersion) has not changed for `leaseDuration` since this process first saw it, so
/// clock skew between nodes does not matter (client-go's observedTime rule).
public final class LeaderElector: Sendable {
    private struct Observed {
        var record: LeaseSpec?
        var resourceVersion: String?
        var at: ContinuousClock.Instant = .now
    }

    private let api: Api<Lease>
    private let config: LeaderElectionConfig
    private let logger: Logger
    private let observed = Mutex(Observed())
    private let leading = Atomic<Bool>(false)

    public init(client: KubeClient, config: LeaderElectionConfig, logger: Logger = Logger(label: "bulwark.leader")) {
        self.api = client.api(Lease.self, namespace: config.namespace)
        self.config = config
        self.logger = logger
    }

    /// Whether this candidate currently holds the lease.
    public var isLeader: Bool { leading.load(ordering: .relaxed) }

    /// Campaigns until cancelled: waits to acquire the lease, runs `whileLeading` while renewing, and cancels it
    /// when renewal fails for `renewDeadline`; then campaigns again.
    public func run(whileLeading: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            guard await acquire() else { break }
            leading.store(true, ordering: .relaxed)
            logger.info("became leader", metadata: ["lease": "\(config.namespace)/\(config.leaseName)"])
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await whileLeading() }
                await renewUntilLost()
                group.cancelAll()
            }
            leading.store(false, ordering: .relaxed)
            logger.info("stopped leading", metadata: ["lease": "\(config.namespace)/\(config.leaseName)"])
        }
        if config.releaseOnCancel {
            // The campaign task is cancelled by now, and cancelled tasks' requests abort: release from a fresh task.
            await Task.detached { await self.release() }.value
        }
    }

    /// Retries every `retryPeriod` until the lease is ours; false when cancelled.
    private func acquire() async -> Bool {
        while !Task.isCancelled {
            if await tryAcquireOrRenew() { return true }
            try? await Task.sleep(for: config.retryPeriod)
        }
        return false
    }

    /// Renews every `retryPeriod`; returns when a renewal did not succeed within `renewDeadline`, or on cancel.
    private func renewUntilLost() async {
        var lastRenew = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: config.retryPeriod)
            if Task.isCancelled { return }
            if await tryAcquireOrRenew() {
                lastRenew = .now
            } else if lastRenew.duration(to: .now) >= config.renewDeadline {
                logger.warning("could not renew the lease within the renew deadline", metadata: [
                    "lease": "\(config.namespace)/\(config.leaseName)"])
                return
            }
        }
    }

    /// One attempt (client-go `tryAcquireOrRenew`).
    func tryAcquireOrRenew() async -> Bool {
        let now = MicroTime.string()
        let seconds = Int32(config.leaseDuration.components.seconds)
        let current: Lease?
        do {
            current = try await api.getIfPresent(config.leaseName)
        } catch {
            logger.debug("reading the lease failed", metadata: ["error": "\(error)"])
            return false
        }
        guard var lease = current else {
            let spec = LeaseSpec(holderIdentity: config.identity, leaseDurationSeconds: seconds, acquireTime: now,
                                 renewTime: now, leaseTransitions: 0)
            do {
                let created = try await api.create(Lease(
                    metadata: ObjectMeta(name: config.leaseName, namespace: config.namespace), spec: spec))
                remember(created)
                return true
            } catch {
                return false
            }
        }
        let spec = lease.spec ?? LeaseSpec()
        let (changed, since) = observed.withLock { observed -> (Bool, ContinuousClock.Instant) in
            if observed.record != spec || observed.resourceVersion != lease.metadata.resourceVersion {
                observed = Observed(record: spec, resourceVersion: lease.metadata.resourceVersion, at: .now)
                return (true, observed.at)
            }
            return (false, observed.at)
        }
        let holder = spec.holderIdentity ?? ""
        let held = !holder.isEmpty && holder != config.identity
        let duration = spec.leaseDurationSeconds.map { Duration.seconds(Int($0)) } ?? config.leaseDuration
        if held && (changed || since.duration(to: .now) < duration) {
            return false
        }
        var next = spec
        if holder == config.identity {
            next.renewTime = now
        } else {
            next = LeaseSpec(holderIdentity: config.identity, leaseDurationSeconds: seconds, acquireTime: now,
                             renewTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder.isEmpty ? 0 : 1))
        }
        next.leaseDurationSeconds = seconds
        lease.spec = next
        do {
            remember(try await api.update(lease))
            return true
        } catch {
            logger.debug("updating the lease failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func remember(_ lease: Lease) {
        observed.withLock {
            $0 = Observed(record: lease.spec, resourceVersion: lease.metadata.resourceVersion, at: .now)
        }
    }

    /// Clears the holder so others can acquire immediately (only if we still hold it).
    private func release() async {
        guard var lease = try? await api.getIfPresent(config.leaseName),
              lease.spec?.holderIdentity == config.identity
        else { return }
        lease.spec?.holderIdentity = nil
        lease.spec?.leaseDurationSeconds = 1
        lease.spec?.renewTime = MicroTime.string()
        _ = try? await api.update(lease)
    }
}
