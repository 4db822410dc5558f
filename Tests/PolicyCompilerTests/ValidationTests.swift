import DataplaneModel
import KubeModel
import PolicyCompiler
import Testing

/// Every validation rule, with its exact message and field path; and rejection of a policy as a whole.
@Suite struct ValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var policy: BulwarkPolicy
        var expected: [String]
        var testDescription: String { name }
    }

    static func ingress(_ rule: BulwarkIngressRule) -> BulwarkPolicy { bulwarkPolicy("p", ingress: [rule]) }
    static func from(_ peer: NetworkPolicyPeer) -> BulwarkPolicy { ingress(BulwarkIngressRule(from: [peer])) }
    static func ports(_ port: NetworkPolicyPort) -> BulwarkPolicy { ingress(BulwarkIngressRule(ports: [port])) }
    static func cidr(_ cidr: String, except: [String]? = nil) -> BulwarkPolicy {
        from(NetworkPolicyPeer(ipBlock: IPBlock(cidr: cidr, except: except)))
    }
    static func expression(_ key: String, _ op: LabelSelectorOperator, _ values: [String]?) -> BulwarkPolicy {
        bulwarkPolicy(
            "p", selecting: LabelSelector(matchExpressions: [LabelSelectorRequirement(key: key, operator: op, values: values)]))
    }

    static let cases: [Case] = [
        Case(name: "invalid CIDR", policy: cidr("10.0.0.0/33"), expected: [
            "spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR \"10.0.0.0/33\": must be an address and prefix length such as 10.0.0.0/16 or fd00::/64",
        ]),
        Case(name: "CIDR without length", policy: cidr("10.0.0.1"), expected: [
            "spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR \"10.0.0.1\": must be an address and prefix length such as 10.0.0.0/16 or fd00::/64",
        ]),
        Case(name: "invalid except", policy: cidr("10.0.0.0/8", except: ["10.1.0.0/x"]), expected: [
            "spec.ingress[0].from[0].ipBlock.except[0]: invalid CIDR \"10.1.0.0/x\": must be an address and prefix length such as 10.0.0.0/16 or fd00::/64",
        ]),
        Case(name: "except outside cidr", policy: cidr("10.0.0.0/16", except: ["10.1.0.0/24"]), expected: [
            "spec.ingress[0].from[0].ipBlock.except[0]: \"10.1.0.0/24\" must be strictly inside cidr \"10.0.0.0/16\"",
        ]),
        Case(name: "except equal to cidr", policy: cidr("10.0.0.0/16", except: ["10.0.0.0/16"]), expected: [
            "spec.ingress[0].from[0].ipBlock.except[0]: \"10.0.0.0/16\" must be strictly inside cidr \"10.0.0.0/16\"",
        ]),
        Case(name: "except of another family", policy: cidr("10.0.0.0/8", except: ["fd00::/64"]), expected: [
            "spec.ingress[0].from[0].ipBlock.except[0]: \"fd00::/64\" is not in the same address family as cidr \"10.0.0.0/8\"",
        ]),
        Case(name: "port 0", policy: ports(port(0)), expected: [
            "spec.ingress[0].ports[0].port: 0 must be between 1 and 65535, inclusive",
        ]),
        Case(name: "port above 65535", policy: ports(port(65536)), expected: [
            "spec.ingress[0].ports[0].port: 65536 must be between 1 and 65535, inclusive",
        ]),
        Case(name: "endPort above 65535", policy: ports(port(80, endPort: 70000)), expected: [
            "spec.ingress[0].ports[0].endPort: 70000 must be between 1 and 65535, inclusive",
        ]),
        Case(name: "endPort below port", policy: ports(port(81, endPort: 80)), expected: [
            "spec.ingress[0].ports[0].endPort: 80 must be greater than or equal to port 81",
        ]),
        Case(name: "endPort without port", policy: ports(NetworkPolicyPort(endPort: 80)), expected: [
            "spec.ingress[0].ports[0].endPort: must not be set without port",
        ]),
        Case(name: "named port with endPort", policy: ports(NetworkPolicyPort(port: .string("http"), endPort: 90)), expected: [
            "spec.ingress[0].ports[0].endPort: must not be set when port is a named port",
        ]),
        Case(name: "invalid port name", policy: ports(NetworkPolicyPort(port: .string("Http_1"))), expected: [
            "spec.ingress[0].ports[0].port: invalid port name \"Http_1\": must contain only lower-case letters, digits and '-'",
        ]),
        Case(name: "port name too long", policy: ports(NetworkPolicyPort(port: .string("a-very-long-port-name"))), expected: [
            "spec.ingress[0].ports[0].port: invalid port name \"a-very-long-port-name\": must be 1 to 15 characters",
        ]),
        Case(name: "unknown protocol", policy: ports(NetworkPolicyPort(protocol: NetworkProtocol(rawValue: "GRE"))), expected: [
            "spec.ingress[0].ports[0].protocol: unsupported protocol \"GRE\": must be one of TCP, UDP, SCTP, ICMP, ICMPv6",
        ]),
        Case(name: "ICMP with a port", policy: ports(port(8, .icmp)), expected: [
            "spec.ingress[0].ports[0].port: must not be set when protocol is ICMP",
        ]),
        Case(name: "ICMPv6 with endPort", policy: ports(NetworkPolicyPort(protocol: .icmpv6, endPort: 3)), expected: [
            "spec.ingress[0].ports[0].endPort: must not be set when protocol is ICMPv6",
        ]),
        Case(name: "unknown action", policy: ingress(BulwarkIngressRule(action: BulwarkRuleAction(rawValue: "Drop"))), expected: [
            "spec.ingress[0].action: unsupported action \"Drop\": must be one of Allow, Deny",
        ]),
        Case(name: "unknown mode", policy: bulwarkPolicy("p", mode: BulwarkPolicyMode(rawValue: "DryRun")), expected: [
            "spec.mode: unsupported mode \"DryRun\": must be one of Enforce, Audit",
        ]),
        Case(name: "unknown policy type", policy: bulwarkPolicy("p", types: [.ingress, PolicyType(rawValue: "Both")]), expected: [
            "spec.policyTypes[1]: unsupported policy type \"Both\": must be one of Ingress, Egress",
        ]),
        Case(name: "duplicate policy type", policy: bulwarkPolicy("p", types: [.egress, .egress]), expected: [
            "spec.policyTypes[1]: duplicate policy type \"Egress\"",
        ]),
        Case(name: "empty peer", policy: from(NetworkPolicyPeer()), expected: [
            "spec.ingress[0].from[0]: must specify a peer: podSelector, namespaceSelector or ipBlock",
        ]),
        Case(name: "ipBlock with a selector",
            policy: from(NetworkPolicyPeer(podSelector: .everything, ipBlock: IPBlock(cidr: "10.0.0.0/8"))), expected: [
            "spec.ingress[0].from[0]: may not specify both ipBlock and podSelector or namespaceSelector",
        ]),
        Case(name: "unknown operator", policy: expression("app", LabelSelectorOperator(rawValue: "Equals"), ["a"]), expected: [
            "spec.podSelector.matchExpressions[0].operator: unsupported operator \"Equals\": must be one of In, NotIn, Exists, DoesNotExist",
        ]),
        Case(name: "In without values", policy: expression("app", .in, nil), expected: [
            "spec.podSelector.matchExpressions[0].values: must be non-empty when operator is In",
        ]),
        Case(name: "NotIn with empty values", policy: expression("app", .notIn, []), expected: [
            "spec.podSelector.matchExpressions[0].values: must be non-empty when operator is NotIn",
        ]),
        Case(name: "Exists with values", policy: expression("app", .exists, ["a"]), expected: [
            "spec.podSelector.matchExpressions[0].values: must be empty when operator is Exists",
        ]),
        Case(name: "DoesNotExist with values", policy: expression("app", .doesNotExist, ["a"]), expected: [
            "spec.podSelector.matchExpressions[0].values: must be empty when operator is DoesNotExist",
        ]),
        Case(name: "bad expression key", policy: expression("-app", .exists, nil), expected: [
            "spec.podSelector.matchExpressions[0].key: invalid label key \"-app\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ]),
        Case(name: "bad expression value", policy: expression("app", .in, ["a b"]), expected: [
            "spec.podSelector.matchExpressions[0].values[0]: invalid label value \"a b\": value must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ]),
        Case(name: "bad label key prefix", policy: from(peer(namespaces: ["Example.com/team": "a"])), expected: [
            "spec.ingress[0].from[0].namespaceSelector.matchLabels.Example.com/team: invalid label key \"Example.com/team\": prefix part must be a lowercase RFC 1123 subdomain (e.g. 'example.com')",
        ]),
        Case(name: "label value too long", policy: from(peer(pods: ["app": String(repeating: "a", count: 64)])), expected: [
            "spec.ingress[0].from[0].podSelector.matchLabels.app: invalid label value \"\(String(repeating: "a", count: 64))\": value must be no more than 63 characters",
        ]),
        Case(name: "several errors at once",
            policy: bulwarkPolicy("p", mode: BulwarkPolicyMode(rawValue: "Off"), egress: [
                BulwarkEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "300.0.0.0/8"))], ports: [port(0)]),
            ]), expected: [
            "spec.mode: unsupported mode \"Off\": must be one of Enforce, Audit",
            "spec.egress[0].to[0].ipBlock.cidr: invalid CIDR \"300.0.0.0/8\": must be an address and prefix length such as 10.0.0.0/16 or fd00::/64",
            "spec.egress[0].ports[0].port: 0 must be between 1 and 65535, inclusive",
        ]),
    ]

    @Test(arguments: cases)
    func invalidPoliciesAreRejectedWithTheirFieldPath(_ testCase: Case) {
        let result = PolicyCompiler.compile(ClusterModel().snapshot(node: nil).with(testCase.policy))
        let policy = result.policies[PolicyReference(kind: .bulwarkPolicy, namespace: "x", name: "p")]
        #expect(policy?.accepted == false)
        #expect(policy?.errors.map(\.description) == testCase.expected)
    }

    @Test func validEdgeCasesAreAccepted() {
        let policies = [
            Self.cidr("192.168.1.1/24"),  // host bits set: accepted as Kubernetes does, as 192.168.1.0/24
            Self.cidr("::/0", except: ["fd00::/8"]),
            Self.ports(port(1, endPort: 65535)),
            Self.ports(NetworkPolicyPort(protocol: .icmp)),
            Self.ports(NetworkPolicyPort(port: .string("http-2"))),
            Self.from(peer(pods: ["example.com/app": "", "a.b_c-d": "X.y_z-1"])),
            Self.expression("app", .exists, []),
        ]
        for policy in policies {
            let result = PolicyCompiler.compile(ClusterModel().snapshot(node: nil).with(policy))
            #expect(result.policies.values.first?.errors == [], "\(policy.spec)")
        }
    }

    @Test func aNetworkPolicyMayNotUseBulwarkExtensions() {
        var model = ClusterModel()
        model.add(networkPolicy("p", ingress: [NetworkPolicyIngressRule(ports: [NetworkPolicyPort(protocol: .icmp)])]))
        let result = PolicyCompiler.compile(model.snapshot(node: nil))
        #expect(result.policies.values.first?.errors.map(\.description) == [
            "spec.ingress[0].ports[0].protocol: unsupported protocol \"ICMP\": must be one of TCP, UDP, SCTP",
        ])
    }

    @Test func anInvalidPolicyIsRejectedAloneAndContributesNothing() {
        var model = ClusterModel()
        model.add(networkPolicy("deny", in: "y", types: [.ingress]))
        // Valid rule first, invalid second: nothing of it may be applied, not even the isolation it would cause.
        model.add(bulwarkPolicy("broken", ingress: [BulwarkIngressRule(from: [peer(pods: ["pod": "b"])]), BulwarkIngressRule(ports: [port(0)])]))
        let result = PolicyCompiler.compile(model.snapshot(node: nil))
        #expect(result.policies[PolicyReference(kind: .bulwarkPolicy, namespace: "x", name: "broken")]?.accepted == false)
        #expect(result.policies[PolicyReference(kind: .networkPolicy, namespace: "y", name: "deny")]?.accepted == true)
        #expect(!result.desired.rules.values.contains { $0.policy.contains("broken") })
        let xa = result.desired.endpoints.first { $0.pod == "x/a" }!
        #expect(xa.ingress == DirectionPolicy())
        let yb = result.desired.endpoints.first { $0.pod == "y/b" }!
        #expect(yb.ingress.isolation == .enforce)
    }
}

extension ClusterSnapshot {
    func with(_ policy: BulwarkPolicy) -> ClusterSnapshot {
        var copy = self
        copy.bulwarkPolicies.append(policy)
        return copy
    }
}
