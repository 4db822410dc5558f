internal import BPFShims
internal import CLibbpf
import DataplaneModel
import Foundation
import Synchronization

/// Verdict recorded in counters and events.
public enum DatapathVerdict: UInt8, Sendable, Hashable, CustomStringConvertible {
    case allow = 0
    case deny = 1
    /// Passed, but audited policy would have denied it.
    case audit = 2

    public var description: String { self == .allow ? "allow" : self == .deny ? "deny" : "audit" }
}

/// Packets and bytes one rule decided with one verdict, summed over CPUs. Rule 0 is the default (isolation) verdict.
public struct RuleCounter: Sendable, Hashable {
    public var rule: RuleID
    public var verdict: DatapathVerdict
    public var packets: UInt64
    public var bytes: UInt64
}

/// Node-wide datapath totals since the maps were created.
public struct DatapathStatistics: Sendable, Hashable {
    public var conntrackHits: UInt64
    public var policyAllowed: UInt64
    public var policyDenied: UInt64
    public var audited: UInt64
    /// Packets dropped because their headers were truncated or malformed (isolated directions only).
    public var malformed: UInt64
    /// Later fragments dropped because their first fragment was not seen.
    public var unknownFragments: UInt64
    /// Events lost because the ring buffer was full.
    public var eventsLost: UInt64
}

/// One deny or audit decision, as reported by the ring buffer.
public struct DatapathEvent: Sendable, Hashable {
    public enum Reason: UInt8, Sendable {
        case policy = 0
        case malformed = 1
        case fragment = 2
    }

    /// Monotonic kernel time (CLOCK_MONOTONIC) in nanoseconds.
    public var timestampNanoseconds: UInt64
    /// Host-side interface of the endpoint.
    public var ifindex: UInt32
    public var direction: Direction
    public var verdict: DatapathVerdict
    public var reason: Reason
    public var remoteIdentity: Identity
    public var rule: RuleID
    /// IP protocol number.
    public var proto: UInt8
    public var source: IPAddress?
    public var destination: IPAddress?
    public var sourcePort: UInt16
    public var destinationPort: UInt16
}

extension Datapath {
    /// Per-rule packet and byte totals, summed over CPUs: the slotted counters and the hash for pairs without a
    /// slot (see `RuleSlots`). Pairs that never counted a packet are left out.
    public func counters() throws -> [RuleCounter] {
        var totals: [RuleSlots.Pair: (packets: UInt64, bytes: UInt64)] = [:]
        func add(_ pair: RuleSlots.Pair, _ values: [bulwark_counter_value]) {
            let sum = totals[pair] ?? (0, 0)
            totals[pair] = (
                values.reduce(sum.packets) { $0 + $1.packets }, values.reduce(sum.bytes) { $0 + $1.bytes }
            )
        }
        for (pair, slot) in try RuleSlots(reading: ruleSlotMap).slots {
            add(pair, try slotCounters.lookupPerCPU(UInt32(slot), as: bulwark_counter_value.self))
        }
        for key in try counterMap.keys(as: bulwark_counter_key.self) {
            guard let verdict = DatapathVerdict(rawValue: UInt8(truncatingIfNeeded: key.verdict)) else { continue }
            add(
                RuleSlots.Pair(rule: key.rule, verdict: verdict),
                try counterMap.lookupPerCPU(key, as: bulwark_counter_value.self))
        }
        return totals.compactMap { pair, total in
            guard total.packets > 0 else { return nil }
            return RuleCounter(
                rule: RuleID(rawValue: pair.rule), verdict: pair.verdict, packets: total.packets, bytes: total.bytes)
        }
    }

    public func statistics() throws -> DatapathStatistics {
        func total(_ stat: bulwark_stat) throws -> UInt64 {
            try stats.lookupPerCPU(UInt32(stat.rawValue), as: UInt64.self).reduce(0, +)
        }
        return DatapathStatistics(
            conntrackHits: try total(BULWARK_STAT_CT_HIT), policyAllowed: try total(BULWARK_STAT_POLICY_ALLOW),
            policyDenied: try total(BULWARK_STAT_POLICY_DENY), audited: try total(BULWARK_STAT_AUDIT),
            malformed: try total(BULWARK_STAT_MALFORMED), unknownFragments: try total(BULWARK_STAT_FRAGMENT_UNKNOWN),
            eventsLost: try total(BULWARK_STAT_EVENTS_LOST))
    }

    /// Deny and audit events from the ring buffer, as they happen.
    ///
    /// A background thread polls the ring buffer; ending the iteration (or cancelling the consuming task) stops it.
    /// Only one consumer should read at a time: the ring buffer hands each event out once. End the iteration before
    /// dropping the `Datapath`: the polling thread keeps its own reference to the ring buffer until then.
    public func events() -> AsyncStream<DatapathEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DatapathEvent.self, bufferingPolicy: .bufferingNewest(4096))
        let stop = Atomic<Bool>(false)
        let box = Unmanaged.passRetained(EventSink(continuation))
        guard
            let ring = ring_buffer__new(
                eventRing.fd,
                { context, data, size in
                    guard let context, let data, size >= MemoryLayout<bulwark_event>.size else { return 0 }
                    let raw = data.loadUnaligned(as: bulwark_event.self)
                    Unmanaged<EventSink>.fromOpaque(context).takeUnretainedValue().continuation.yield(
                        DatapathEvent(raw))
                    return 0
                }, box.toOpaque(), nil)
        else {
            box.release()
            continuation.finish()
            return stream
        }
        let handle = RingHandle(ring: ring, stop: stop, box: box)
        continuation.onTermination = { _ in handle.stop.store(true, ordering: .relaxed) }
        let thread = Thread {
            while !handle.stop.load(ordering: .relaxed) {
                if ring_buffer__poll(handle.ring, 100) < 0 && errno != EINTR { break }
            }
            ring_buffer__free(handle.ring)
            handle.box.takeUnretainedValue().continuation.finish()
            handle.box.release()
        }
        thread.name = "bulwark-events"
        thread.start()
        return stream
    }
}

private final class EventSink: Sendable {
    let continuation: AsyncStream<DatapathEvent>.Continuation
    init(_ continuation: AsyncStream<DatapathEvent>.Continuation) { self.continuation = continuation }
}

/// The ring buffer and its stop flag, shared by the polling thread and the stream's termination handler.
private final class RingHandle: @unchecked Sendable {
    let ring: OpaquePointer
    let stop: Atomic<Bool>
    let box: Unmanaged<EventSink>

    init(ring: OpaquePointer, stop: consuming Atomic<Bool>, box: Unmanaged<EventSink>) {
        self.ring = ring
        self.stop = stop
        self.box = box
    }
}

extension DatapathEvent {
    init(_ raw: bulwark_event) {
        let source = withUnsafeBytes(of: raw.saddr) { Array($0) }
        let destination = withUnsafeBytes(of: raw.daddr) { Array($0) }
        self.init(
            timestampNanoseconds: raw.timestamp_ns, ifindex: raw.ifindex,
            direction: Direction(rawValue: raw.direction) ?? .ingress,
            verdict: DatapathVerdict(rawValue: raw.verdict) ?? .deny, reason: Reason(rawValue: raw.reason) ?? .policy,
            remoteIdentity: Identity(rawValue: raw.identity), rule: RuleID(rawValue: raw.rule), proto: raw.proto,
            source: IPAddress(family: raw.family, bytes: source),
            destination: IPAddress(family: raw.family, bytes: destination),
            sourcePort: UInt16(bigEndian: raw.sport), destinationPort: UInt16(bigEndian: raw.dport))
    }
}
