import DataplaneModel
import KubeModel

/// Turns a NetworkPolicy or BulwarkPolicy into a `ValidatedPolicy`, or every problem with its field path.
///
/// Why validate in Swift when the CRD schema already checks shapes: NetworkPolicy has no schema of ours, standalone
/// mode reads files no API server has seen, and some rules (CIDR syntax, `except` inside `cidr`, label syntax)
/// cannot be expressed in OpenAPI. A policy with any error is rejected whole, never applied in part.
enum PolicyValidator {
    static func validate(_ policy: NetworkPolicy) -> Result<ValidatedPolicy, PolicyErrors> {
        let spec = policy.spec
        let reference = PolicyReference(
            kind: .networkPolicy, namespace: policy.metadata.namespaceOrDefault, name: policy.metadata.name)
        let ingress = spec.ingress?.map { RawRule(action: nil, peers: $0.from, ports: $0.ports) }
        let egress = spec.egress?.map { RawRule(action: nil, peers: $0.to, ports: $0.ports) }
        return validate(
            reference: reference, podSelector: spec.podSelector, policyTypes: spec.policyTypes, mode: nil,
            ingress: ingress, egress: egress, extensions: false)
    }

    static func validate(_ policy: BulwarkPolicy) -> Result<ValidatedPolicy, PolicyErrors> {
        let spec = policy.spec
        let reference = PolicyReference(
            kind: .bulwarkPolicy, namespace: policy.metadata.namespaceOrDefault, name: policy.metadata.name)
        let ingress = spec.ingress?.map { RawRule(action: $0.action, peers: $0.from, ports: $0.ports) }
        let egress = spec.egress?.map { RawRule(action: $0.action, peers: $0.to, ports: $0.ports) }
        return validate(
            reference: reference, podSelector: spec.podSelector, policyTypes: spec.policyTypes, mode: spec.mode,
            ingress: ingress, egress: egress, extensions: true)
    }

    /// A rule of either kind before validation.
    private struct RawRule {
        var action: BulwarkRuleAction?
        var peers: [NetworkPolicyPeer]?
        var ports: [NetworkPolicyPort]?
    }

    private static func validate(
        reference: PolicyReference, podSelector: LabelSelector, policyTypes: [PolicyType]?, mode: BulwarkPolicyMode?,
        ingress: [RawRule]?, egress: [RawRule]?, extensions: Bool
    ) -> Result<ValidatedPolicy, PolicyErrors> {
        let spec: [FieldStep] = [.key("spec")]
        var errors = podSelector.validate(at: spec.key("podSelector"))

        var appliesToIngress = true
        var appliesToEgress = !(egress ?? []).isEmpty
        if let policyTypes {
            appliesToIngress = false
            appliesToEgress = false
            var seen = Set<PolicyType>()
            for (index, type) in policyTypes.enumerated() {
                let path = spec.key("policyTypes").index(index)
                if !seen.insert(type).inserted {
                    errors.append(FieldError(path: path, message: "duplicate policy type \"\(type)\""))
                }
                switch type {
                case .ingress: appliesToIngress = true
                case .egress: appliesToEgress = true
                default:
                    errors.append(
                        FieldError(path: path, message: "unsupported policy type \"\(type)\": must be one of Ingress, Egress"))
                }
            }
        }

        var policyMode = PolicyMode.enforce
        switch mode {
        case nil, .enforce?: break
        case .audit?: policyMode = .audit
        case let other?:
            errors.append(
                FieldError(path: spec.key("mode"), message: "unsupported mode \"\(other)\": must be one of Enforce, Audit"))
        }

        let peerField = ["ingress": "from", "egress": "to"]
        var rules: [String: [ValidatedRule]] = [:]
        for (field, raw) in [("ingress", ingress), ("egress", egress)] {
            guard let raw else { continue }
            rules[field] = raw.enumerated().map { index, rule in
                validateRule(
                    rule, index: index, at: spec.key(field).index(index), peerField: peerField[field]!,
                    namespace: reference.namespace, extensions: extensions, errors: &errors)
            }
        }
        guard errors.isEmpty else { return .failure(PolicyErrors(errors: errors)) }
        return .success(
            ValidatedPolicy(
                reference: reference, podSelector: podSelector, mode: policyMode,
                ingress: appliesToIngress ? rules["ingress"] ?? [] : nil,
                egress: appliesToEgress ? rules["egress"] ?? [] : nil))
    }

    private static func validateRule(
        _ rule: RawRule, index: Int, at path: [FieldStep], peerField: String, namespace: String, extensions: Bool,
        errors: inout [FieldError]
    ) -> ValidatedRule {
        var action = RuleAction.allow
        switch rule.action {
        case nil, .allow?: break
        case .deny?: action = .deny
        case let other?:
            errors.append(
                FieldError(path: path.key("action"), message: "unsupported action \"\(other)\": must be one of Allow, Deny"))
        }
        // Absent and empty peer lists both mean "every peer"; the same holds for ports.
        var peers: [Peer]?
        if let raw = rule.peers, !raw.isEmpty {
            peers = raw.enumerated().compactMap { peerIndex, peer in
                validatePeer(peer, at: path.key(peerField).index(peerIndex), namespace: namespace, errors: &errors)
            }
        }
        var ports: [PortMatch]?
        if let raw = rule.ports, !raw.isEmpty {
            ports = raw.enumerated().compactMap { portIndex, port in
                validatePort(port, at: path.key("ports").index(portIndex), extensions: extensions, errors: &errors)
            }
        }
        return ValidatedRule(index: index, action: action, peers: peers, ports: ports)
    }

    private static func validatePeer(
        _ peer: NetworkPolicyPeer, at path: [FieldStep], namespace: String, errors: inout [FieldError]
    ) -> Peer? {
        if let ipBlock = peer.ipBlock {
            if peer.podSelector != nil || peer.namespaceSelector != nil {
                errors.append(
                    FieldError(path: path, message: "may not specify both ipBlock and podSelector or namespaceSelector"))
                return nil
            }
            return validateIPBlock(ipBlock, at: path.key("ipBlock"), errors: &errors).map(Peer.cidr)
        }
        guard peer.podSelector != nil || peer.namespaceSelector != nil else {
            errors.append(FieldError(path: path, message: "must specify a peer: podSelector, namespaceSelector or ipBlock"))
            return nil
        }
        if let podSelector = peer.podSelector { errors += podSelector.validate(at: path.key("podSelector")) }
        if let namespaceSelector = peer.namespaceSelector {
            errors += namespaceSelector.validate(at: path.key("namespaceSelector"))
        }
        // Without a namespaceSelector the peer is the policy's own namespace; with one (even `{}`), those namespaces.
        return .pods(
            PodPeer(
                namespaces: peer.namespaceSelector.map { .selected($0) } ?? .named(namespace),
                podSelector: peer.podSelector ?? .everything))
    }

    private static func validateIPBlock(_ block: IPBlock, at path: [FieldStep], errors: inout [FieldError])
        -> CIDRSelector?
    {
        guard let cidr = parseCIDR(block.cidr) else {
            errors.append(FieldError(path: path.key("cidr"), message: invalidCIDR(block.cidr)))
            return nil
        }
        var excepts: [IPPrefix] = []
        for (index, text) in (block.except ?? []).enumerated() {
            let exceptPath = path.key("except").index(index)
            guard let prefix = parseCIDR(text) else {
                errors.append(FieldError(path: exceptPath, message: invalidCIDR(text)))
                continue
            }
            if prefix.address.isV4 != cidr.address.isV4 {
                errors.append(
                    FieldError(
                        path: exceptPath,
                        message: "\"\(text)\" is not in the same address family as cidr \"\(block.cidr)\""))
            } else if !(cidr.contains(prefix) && prefix.length > cidr.length) {
                errors.append(
                    FieldError(path: exceptPath, message: "\"\(text)\" must be strictly inside cidr \"\(block.cidr)\""))
            } else {
                excepts.append(prefix)
            }
        }
        return CIDRSelector(cidr: cidr, except: Array(Set(excepts)).sorted())
    }

    private static func invalidCIDR(_ text: String) -> String {
        "invalid CIDR \"\(text)\": must be an address and prefix length such as 10.0.0.0/16 or fd00::/64"
    }

    /// Parses `ADDRESS/LENGTH`, clearing host bits as Kubernetes does for `ipBlock` (`192.168.1.1/24` is the
    /// documented example).
    static func parseCIDR(_ text: String) -> IPPrefix? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(parts[0]), !parts[1].isEmpty,
            parts[1].utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            parts[1].count <= 3, let length = Int(parts[1])
        else { return nil }
        return IPPrefix(address: address, length: length)
    }

    private static func validatePort(
        _ port: NetworkPolicyPort, at path: [FieldStep], extensions: Bool, errors: inout [FieldError]
    ) -> PortMatch? {
        let known: [NetworkProtocol: L4Protocol] =
            extensions
            ? [.tcp: .tcp, .udp: .udp, .sctp: .sctp, .icmp: .icmp, .icmpv6: .icmpv6] : [.tcp: .tcp, .udp: .udp, .sctp: .sctp]
        let name = port.protocol ?? .tcp
        guard let proto = known[name] else {
            let choices = extensions ? "TCP, UDP, SCTP, ICMP, ICMPv6" : "TCP, UDP, SCTP"
            errors.append(
                FieldError(
                    path: path.key("protocol"), message: "unsupported protocol \"\(name)\": must be one of \(choices)"))
            return nil
        }
        if !proto.hasPorts {
            if port.port != nil || port.endPort != nil {
                errors.append(
                    FieldError(
                        path: path.key(port.port != nil ? "port" : "endPort"),
                        message: "must not be set when protocol is \(name)"))
                return nil
            }
            return PortMatch(proto: proto, ports: .all)
        }
        switch port.port {
        case nil:
            if port.endPort != nil {
                errors.append(FieldError(path: path.key("endPort"), message: "must not be set without port"))
                return nil
            }
            return PortMatch(proto: proto, ports: .all)
        case .string(let portName)?:
            var valid = true
            if let problem = PortName.check(portName) {
                errors.append(FieldError(path: path.key("port"), message: "invalid port name \"\(portName)\": \(problem)"))
                valid = false
            }
            if port.endPort != nil {
                errors.append(FieldError(path: path.key("endPort"), message: "must not be set when port is a named port"))
                valid = false
            }
            return valid ? PortMatch(proto: proto, ports: .named(portName)) : nil
        case .int(let number)?:
            guard (1...65535).contains(number) else {
                errors.append(FieldError(path: path.key("port"), message: "\(number) must be between 1 and 65535, inclusive"))
                return nil
            }
            guard let endPort = port.endPort else { return PortMatch(proto: proto, ports: .range(PortRange(UInt16(number)))) }
            guard (1...65535).contains(endPort) else {
                errors.append(
                    FieldError(path: path.key("endPort"), message: "\(endPort) must be between 1 and 65535, inclusive"))
                return nil
            }
            guard endPort >= number else {
                errors.append(
                    FieldError(
                        path: path.key("endPort"), message: "\(endPort) must be greater than or equal to port \(number)"))
                return nil
            }
            return PortMatch(proto: proto, ports: .range(PortRange(UInt16(number), UInt16(endPort))))
        }
    }
}

/// Every validation problem of one policy.
public struct PolicyErrors: Error, Hashable, Sendable {
    public var errors: [FieldError]
}

/// IANA service name syntax (RFC 6335), which container port names follow.
enum PortName {
    static func check(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 15 { return "must be 1 to 15 characters" }
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z")
        let digit = UInt8(ascii: "0")...UInt8(ascii: "9")
        let hyphen = UInt8(ascii: "-")
        if !bytes.allSatisfy({ lower.contains($0) || digit.contains($0) || $0 == hyphen }) {
            return "must contain only lower-case letters, digits and '-'"
        }
        if !bytes.contains(where: { lower.contains($0) }) { return "must contain at least one letter" }
        if bytes.first == hyphen || bytes.last == hyphen { return "must not begin or end with '-'" }
        if name.contains("--") { return "must not contain '--'" }
        return nil
    }
}

extension PolicyCompiler {
    /// Every validation problem of a NetworkPolicy (empty when the compiler would accept it).
    public static func validate(_ policy: NetworkPolicy) -> [FieldError] {
        if case .failure(let failure) = PolicyValidator.validate(policy) { failure.errors } else { [] }
    }

    /// Every validation problem of a BulwarkPolicy (empty when the compiler would accept it).
    public static func validate(_ policy: BulwarkPolicy) -> [FieldError] {
        if case .failure(let failure) = PolicyValidator.validate(policy) { failure.errors } else { [] }
    }
}
