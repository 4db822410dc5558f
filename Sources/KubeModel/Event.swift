/// An `events.k8s.io/v1` Event: something that happened to an object, shown by `kubectl describe` and
/// `kubectl events`.
///
/// Repeats of one event are not new objects: `series` counts them (the recorder patches it).
public struct Event: KubeResource, Hashable {
    public static let group = "events.k8s.io"
    public static let version = "v1"
    public static let kind = "Event"
    public static let plural = "events"
    public static let namespaced = true

    public var metadata: ObjectMeta
    /// MicroTime of the first occurrence (required by the API).
    public var eventTime: String
    public var series: EventSeries?
    /// Controller that emitted it, e.g. `bulwark.dev/agent`.
    public var reportingController: String?
    /// Instance of that controller, e.g. the node name.
    public var reportingInstance: String?
    /// What was attempted or done, e.g. `Program`.
    public var action: String?
    /// Machine-readable reason, UpperCamelCase, e.g. `PolicyProgrammed`.
    public var reason: String?
    public var regarding: ObjectReference?
    public var related: ObjectReference?
    /// Human-readable description, at most 1 kB.
    public var note: String?
    /// `Normal` or `Warning`.
    public var type: String?

    public init(
        metadata: ObjectMeta, eventTime: String, series: EventSeries? = nil, reportingController: String? = nil,
        reportingInstance: String? = nil, action: String? = nil, reason: String? = nil,
        regarding: ObjectReference? = nil, related: ObjectReference? = nil, note: String? = nil, type: String? = nil
    ) {
        self.metadata = metadata
        self.eventTime = eventTime
        self.series = series
        self.reportingController = reportingController
        self.reportingInstance = reportingInstance
        self.action = action
        self.reason = reason
        self.regarding = regarding
        self.related = related
        self.note = note
        self.type = type
    }
}

/// Repetitions of an event: how many, and when the last one happened (MicroTime).
public struct EventSeries: Codable, Hashable, Sendable {
    public var count: Int32
    public var lastObservedTime: String

    public init(count: Int32, lastObservedTime: String) {
        self.count = count
        self.lastObservedTime = lastObservedTime
    }
}

/// A reference to another object (`core/v1` ObjectReference).
public struct ObjectReference: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(
        apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil,
        uid: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }
}

extension KubeResource {
    /// A reference to this object, for events and owner links.
    public var reference: ObjectReference {
        ObjectReference(apiVersion: Self.apiVersion, kind: Self.kind, namespace: metadata.namespace,
                        name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion)
    }
}
