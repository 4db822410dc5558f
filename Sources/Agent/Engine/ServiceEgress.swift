import DataplaneModel
import KubeModel
import PolicyCompiler

/// Egress to Service ClusterIPs, decided by the Service's ready backends.
///
/// Why: the TC program on a pod's veth sees egress *before* kube-proxy's DNAT, so a connection to a Service carries
/// the ClusterIP, not a backend's address. Each ClusterIP gets a service identity in the ipcache, and every local
/// endpoint isolated for egress gets entries for the Service's ports, decided against each ready backend on the
/// backend's port (from the EndpointSlices, so named target ports are resolved):
/// - allowed only when the endpoint's egress policy allows **every** ready backend (never wider than going to the
///   backends directly: the connection may land on any of them);
/// - denied explicitly when a Deny rule matches any backend; otherwise a port nobody allows gets no entry (default
///   deny), as does a Service without ready backends;
/// - audited when enforcement allows every backend but an Audit policy would deny one.
/// The backend's own ingress policy still judges the DNATed packet with real addresses, and replies pass through the
/// conntrack entry made for the ClusterIP. Ingress needs nothing: it always sees real pod addresses.
enum ServiceEgress {
    /// Adds service identities to the ipcache and service entries to every endpoint isolated for egress.
    static func add(services: [Service], slices: [EndpointSlice], to desired: inout DesiredState) {
        let original = desired
        let backends = Dictionary(grouping: slices.filter { $0.addressType != "FQDN" }) { slice in
            ObjectKey(
                namespace: slice.metadata.namespace,
                name: slice.metadata.labels?[EndpointSlice.serviceNameLabel] ?? "")
        }
        var taken: Set<UInt32> = []
        for service in services.sorted(by: { $0.key < $1.key }) {
            let addresses = clusterIPs(of: service)
            guard !addresses.isEmpty, let ports = service.spec.ports, !ports.isEmpty else { continue }
            let identity = allocate(service.key, taken: &taken)
            desired.ipcache += addresses.map { IPCacheEntry(prefix: IPPrefix(host: $0), identity: identity) }
            let ready = (backends[service.key] ?? []).flatMap { slice in
                slice.endpoints.filter { $0.conditions?.ready != false }
                    .flatMap { $0.addresses.compactMap(IPAddress.init) }.map { ($0, slice.ports ?? []) }
            }
            for index in original.endpoints.indices where original.endpoints[index].egress.isolation != .none {
                for port in ports {
                    desired.endpoints[index].egress.entries += entries(
                        for: port, peer: identity, backends: ready, endpoint: original.endpoints[index],
                        state: original)
                }
            }
        }
    }

    /// Service identities live above the compiler's range ([256, 2^31)), derived from the Service's name so they
    /// are stable across restarts and nodes; collisions probe upward in name order.
    private static func allocate(_ key: ObjectKey, taken: inout Set<UInt32>) -> Identity {
        var hash: UInt32 = 2_166_136_261
        for byte in "service\u{1}\(key)".utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        var number = 0x8000_0000 | hash
        while taken.contains(number) { number = 0x8000_0000 | (number &+ 1) }
        taken.insert(number)
        return Identity(rawValue: number)
    }

    private static func clusterIPs(of service: Service) -> [IPAddress] {
        let texts = service.spec.clusterIPs ?? service.spec.clusterIP.map { [$0] } ?? []
        return texts.filter { $0 != "None" && !$0.isEmpty }.compactMap(IPAddress.init)
    }

    private static func entries(
        for port: ServicePort, peer: Identity, backends: [(IPAddress, [EndpointSlicePort])], endpoint: Endpoint,
        state: DesiredState
    ) -> [PolicyEntry] {
        let protocolName = (port.protocol ?? "TCP").uppercased()
        guard let proto = L4Protocol.allCases.first(where: { $0.description.uppercased() == protocolName }),
            proto.hasPorts, let servicePort = UInt16(exactly: port.port)
        else { return [] }
        let decisions = backends.compactMap { address, slicePorts -> Decision? in
            // The slice names its ports after the Service's and carries the resolved target port.
            guard
                let target = slicePorts.first(where: {
                    ($0.name ?? "") == (port.name ?? "") && ($0.protocol ?? "TCP").uppercased() == protocolName
                })?.port.flatMap({ UInt16(exactly: $0) })
            else { return nil }
            return state.decide(endpoint, .egress, remote: address, proto: proto, port: target)
        }
        guard !decisions.isEmpty else { return [] }
        let ports = PortRange(servicePort)
        if let denied = decisions.first(where: { $0.verdict == .denied }) {
            guard let rule = denied.rule, isDenyRule(rule, in: endpoint.egress) else { return [] }
            return [PolicyEntry(peer: peer, proto: proto, ports: ports, action: .deny, mode: .enforce, rule: rule)]
        }
        let allowRule = decisions.compactMap(\.rule).first ?? .defaultDeny
        var result = [
            PolicyEntry(peer: peer, proto: proto, ports: ports, action: .allow, mode: .enforce, rule: allowRule)
        ]
        if let audited = decisions.first(where: { $0.verdict == .audited }) {
            result.append(
                PolicyEntry(
                    peer: peer, proto: proto, ports: ports, action: .deny, mode: .audit,
                    rule: audited.rule ?? .defaultDeny))
        }
        return result
    }

    private static func isDenyRule(_ rule: RuleID, in policy: DirectionPolicy) -> Bool {
        policy.entries.contains { $0.rule == rule && $0.action == .deny }
    }
}
