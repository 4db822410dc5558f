import DataplaneModel
import KubeModel
import PolicyCompiler
import Testing

/// BulwarkPolicy extensions on the e2e model: Deny rules, Audit mode, ICMP.
@Suite struct BulwarkPolicyConformanceTests {
    @Test func aDenyRuleBeatsAnAllowOfTheSamePolicy() {
        var model = ClusterModel()
        model.add(bulwarkPolicy("deny-yb", ingress: [
            BulwarkIngressRule(action: .deny, from: [peer(pods: ["pod": "b"], namespaces: ["ns": "y"])]),
            BulwarkIngressRule(),
        ]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb .  .  .  .  .  .  .  .  .
            xc .  .  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb X  X  X  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za .  .  .  .  .  .  .  .  .
            zb .  .  .  .  .  .  .  .  .
            zc .  .  .  .  .  .  .  .  .
            """, on: [(80, .tcp), (81, .udp)])
    }

    @Test func aDenyRuleBeatsAllowsOfOtherPolicies() {
        var model = ClusterModel()
        model.add(networkPolicy("allow-all", ingress: [NetworkPolicyIngressRule()]))
        model.add(bulwarkPolicy("deny-z", ingress: [BulwarkIngressRule(action: .deny, from: [peer(namespaces: ["ns": "z"])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb .  .  .  .  .  .  .  .  .
            xc .  .  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """)
    }

    @Test func aDenyOnOnePortLeavesOtherPortsAllowed() {
        var model = ClusterModel()
        model.add(networkPolicy("allow-all", ingress: [NetworkPolicyIngressRule()]))
        model.add(bulwarkPolicy("deny-81", ingress: [BulwarkIngressRule(action: .deny, ports: [port(81)])]))
        expectReachability(model, allConnected, on: [(80, .tcp), (81, .udp)])
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya X  X  X  .  .  .  .  .  .
            yb X  X  X  .  .  .  .  .  .
            yc X  X  X  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """, on: [(81, .tcp)])
    }

    @Test func anAuditPolicyLetsEverythingThroughAndReportsWhatItWouldDeny() {
        var model = ClusterModel()
        model.add(bulwarkPolicy("audit-deny", types: [.ingress], mode: .audit))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  A  A  .  .  .  .  .  .
            xb A  .  A  .  .  .  .  .  .
            xc A  A  .  .  .  .  .  .  .
            ya A  A  A  .  .  .  .  .  .
            yb A  A  A  .  .  .  .  .  .
            yc A  A  A  .  .  .  .  .  .
            za A  A  A  .  .  .  .  .  .
            zb A  A  A  .  .  .  .  .  .
            zc A  A  A  .  .  .  .  .  .
            """)
    }

    @Test func anAuditPolicyNextToAnEnforcedOneReportsOnlyWhatEnforcementLetsThrough() {
        var model = ClusterModel()
        model.add(networkPolicy("from-y", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["ns": "y"])])]))
        model.add(bulwarkPolicy("audit-deny-yb", mode: .audit, ingress: [
            BulwarkIngressRule(action: .deny, from: [peer(pods: ["pod": "b"], namespaces: ["ns": "y"])]),
        ]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb A  A  A  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """)
    }

    @Test func anAuditPolicyAllowsQuietlyWhatItsRulesAllow() {
        var model = ClusterModel()
        model.add(bulwarkPolicy("audit-from-y", mode: .audit, ingress: [
            BulwarkIngressRule(from: [peer(namespaces: ["ns": "y"])]),
        ]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  A  A  .  .  .  .  .  .
            xb A  .  A  .  .  .  .  .  .
            xc A  A  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za A  A  A  .  .  .  .  .  .
            zb A  A  A  .  .  .  .  .  .
            zc A  A  A  .  .  .  .  .  .
            """)
    }

    @Test func icmpRulesAllowICMPOnly() {
        var model = ClusterModel()
        model.add(bulwarkPolicy("icmp", ingress: [
            BulwarkIngressRule(ports: [NetworkPolicyPort(protocol: .icmp)]),
        ]))
        expectReachability(model, allConnected, on: [(0, .icmp)])
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya X  X  X  .  .  .  .  .  .
            yb X  X  X  .  .  .  .  .  .
            yc X  X  X  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """, on: [(80, .tcp), (0, .icmpv6)])
    }

    @Test func egressDenyToACIDRBeatsAnAllowAll() {
        var model = ClusterModel()
        model.add(bulwarkPolicy("deny-yb", selecting: selector(["pod": "a"]), types: [.egress], egress: [
            BulwarkEgressRule(action: .deny, to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.14/32"))]),
            BulwarkEgressRule(),
        ]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  X  .  .  .  .
            xb .  .  .  .  .  .  .  .  .
            xc .  .  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za .  .  .  .  .  .  .  .  .
            zb .  .  .  .  .  .  .  .  .
            zc .  .  .  .  .  .  .  .  .
            """)
    }
}
