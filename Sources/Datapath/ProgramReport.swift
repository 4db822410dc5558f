/// What `Datapath.program(_:)` changed, counted against what the maps held before (not against memory).
public struct ProgramReport: Sendable, Equatable, CustomStringConvertible {
    /// Entry changes in one map.
    public struct Changes: Sendable, Equatable {
        public var added = 0
        public var updated = 0
        public var removed = 0

        public init(added: Int = 0, updated: Int = 0, removed: Int = 0) {
            self.added = added
            self.updated = updated
            self.removed = removed
        }

        public var total: Int { added + updated + removed }
    }

    /// Endpoint configurations (isolation, identity) by interface.
    public var endpoints = Changes()
    /// Remote prefix -> identity entries.
    public var ipcache = Changes()
    /// Policy keys (endpoint, direction, identity, port prefix) of each endpoint's active generation, after folding
    /// (one rule may be several keys) and before sharing (identical per-identity sets are stored once).
    public var policy = Changes()
    /// Kernel map writes and deletes performed, including the double-buffering of replaced generations.
    public var mapOperations = 0
    /// Endpoints left out because their interface is not known yet (ifindex 0), as `namespace/name`.
    public var unresolvedEndpoints: [String] = []

    public init() {}

    /// True when the maps already held the desired state.
    public var isUnchanged: Bool { endpoints.total + ipcache.total + policy.total == 0 }

    public var description: String {
        func text(_ c: Changes) -> String { "+\(c.added) ~\(c.updated) -\(c.removed)" }
        return "endpoints \(text(endpoints)), ipcache \(text(ipcache)), policy \(text(policy)),"
            + " \(mapOperations) map operations"
    }
}
