import DataplaneModel
import KubeModel
import PolicyCompiler
import Testing

/// The upstream Kubernetes NetworkPolicy e2e cases (test/e2e/network/netpol), as truth tables on the compiler.
@Suite struct NetworkPolicyConformanceTests {
    @Test func withoutPoliciesEveryPodReachesEveryPod() {
        expectReachability(ClusterModel(), allConnected, on: [(80, .tcp), (81, .udp), (80, .sctp)])
    }

    @Test func defaultDenyIngressIsolatesEveryPodOfTheNamespace() {
        var model = ClusterModel()
        model.add(networkPolicy("deny-ingress", types: [.ingress]))
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
            """, on: [(80, .tcp), (81, .tcp), (80, .udp), (81, .sctp)])
    }

    @Test func defaultDenyAllIsolatesBothDirections() {
        var model = ClusterModel()
        model.add(networkPolicy("deny-all", types: [.ingress, .egress]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  X  X  X  X  X  X
            xb X  .  X  X  X  X  X  X  X
            xc X  X  .  X  X  X  X  X  X
            ya X  X  X  .  .  .  .  .  .
            yb X  X  X  .  .  .  .  .  .
            yc X  X  X  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """)
    }

    @Test func ingressFromPodsInTheSameNamespaceByPodSelector() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "allow-b-to-a", selecting: selector(["pod": "a"]),
            ingress: [NetworkPolicyIngressRule(from: [peer(pods: ["pod": "b"])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb .  .  .  .  .  .  .  .  .
            xc X  .  .  .  .  .  .  .  .
            ya X  .  .  .  .  .  .  .  .
            yb X  .  .  .  .  .  .  .  .
            yc X  .  .  .  .  .  .  .  .
            za X  .  .  .  .  .  .  .  .
            zb X  .  .  .  .  .  .  .  .
            zc X  .  .  .  .  .  .  .  .
            """)
    }

    @Test func ingressFromAnotherNamespaceByNamespaceSelector() {
        var model = ClusterModel()
        model.add(networkPolicy("allow-from-y", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["ns": "y"])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """)
    }

    @Test func namespaceSelectorUsesTheAutomaticNameLabel() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "allow-from-y", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["kubernetes.io/metadata.name": "y"])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """)
    }

    @Test func namespaceSelectorWithMatchExpressions() {
        var model = ClusterModel()
        let notX = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "ns", operator: .notIn, values: ["x"])])
        model.add(networkPolicy(
            "allow-from-not-x", ingress: [NetworkPolicyIngressRule(from: [NetworkPolicyPeer(namespaceSelector: notX)])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  .  .  .
            xb X  .  X  .  .  .  .  .  .
            xc X  X  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za .  .  .  .  .  .  .  .  .
            zb .  .  .  .  .  .  .  .  .
            zc .  .  .  .  .  .  .  .  .
            """)
    }

    @Test func podAndNamespaceSelectorInOnePeerAreANDed() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "allow-y-b", selecting: selector(["pod": "a"]),
            ingress: [NetworkPolicyIngressRule(from: [peer(pods: ["pod": "b"], namespaces: ["ns": "y"])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb X  .  .  .  .  .  .  .  .
            xc X  .  .  .  .  .  .  .  .
            ya X  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc X  .  .  .  .  .  .  .  .
            za X  .  .  .  .  .  .  .  .
            zb X  .  .  .  .  .  .  .  .
            zc X  .  .  .  .  .  .  .  .
            """)
    }

    @Test func podAndNamespaceSelectorsInTwoPeersAreORed() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "allow-y-or-b", selecting: selector(["pod": "a"]),
            ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["ns": "y"]), peer(pods: ["pod": "b"])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb .  .  .  .  .  .  .  .  .
            xc X  .  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za X  .  .  .  .  .  .  .  .
            zb X  .  .  .  .  .  .  .  .
            zc X  .  .  .  .  .  .  .  .
            """)
    }

    @Test func emptyNamespaceSelectorSelectsAllNamespacesAndAbsentFromAllowsEveryone() {
        var model = ClusterModel()
        model.add(networkPolicy("deny", types: [.ingress]))
        model.add(networkPolicy("all-namespaces", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: [:])])]))
        model.add(networkPolicy("empty-from", in: "y", ingress: [NetworkPolicyIngressRule(from: [])]))
        expectReachability(model, allConnected)
    }

    @Test func egressToAnIPBlockWithExcept() {
        var model = ClusterModel()
        let block = IPBlock(cidr: "10.0.0.0/24", except: ["10.0.0.14/32"])  // y/b
        model.add(networkPolicy(
            "egress-cidr", selecting: selector(["pod": "a"]), types: [.egress],
            egress: [NetworkPolicyEgressRule(to: [NetworkPolicyPeer(ipBlock: block)])]))
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

    @Test func anAddressInBothCIDRAndExceptIsAllowedByAnotherPeer() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "egress-cidr", selecting: selector(["pod": "a"]), types: [.egress],
            egress: [
                NetworkPolicyEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.0/24", except: ["10.0.0.14/32"]))]),
                NetworkPolicyEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.14/32"))]),
            ]))
        expectReachability(model, allConnected)
    }

    @Test func egressToASingleAddressOnly() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "egress-yb", selecting: selector(["pod": "a"]), types: [.egress],
            egress: [NetworkPolicyEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.14/32"))])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  X  .  X  X  X  X
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

    @Test func ingressOnANamedPortResolvesOnTheTargetPod() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "named", ingress: [NetworkPolicyIngressRule(ports: [NetworkPolicyPort(port: .string("serve-81-tcp"))])]))
        expectReachability(model, allConnected, on: [(81, .tcp)])
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
            """, on: [(80, .tcp), (81, .udp)])
    }

    @Test func egressOnANamedPortResolvesOnTheDestinationPods() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "named-egress", types: [.egress],
            egress: [NetworkPolicyEgressRule(ports: [NetworkPolicyPort(protocol: .udp, port: .string("serve-81-udp"))])]))
        expectReachability(model, allConnected, on: [(81, .udp)])
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  X  X  X  X  X  X
            xb X  .  X  X  X  X  X  X  X
            xc X  X  .  X  X  X  X  X  X
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za .  .  .  .  .  .  .  .  .
            zb .  .  .  .  .  .  .  .  .
            zc .  .  .  .  .  .  .  .  .
            """, on: [(80, .udp), (81, .tcp)])
    }

    @Test func egressDenyAllIsolatesEgressOnly() {
        var model = ClusterModel()
        model.add(networkPolicy("deny-egress", types: [.egress]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  X  X  X  X  X  X
            xb X  .  X  X  X  X  X  X  X
            xc X  X  .  X  X  X  X  X  X
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za .  .  .  .  .  .  .  .  .
            zb .  .  .  .  .  .  .  .  .
            zc .  .  .  .  .  .  .  .  .
            """)
    }

    @Test func egressRulesImplyEgressAndIngressIsAlwaysImplied() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "egress-to-y", egress: [NetworkPolicyEgressRule(to: [peer(namespaces: ["ns": "y"])])]))
        model.add(networkPolicy("allow-z", in: "z", ingress: [NetworkPolicyIngressRule()]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  X  X  X
            xb X  .  X  .  .  .  X  X  X
            xc X  X  .  .  .  .  X  X  X
            ya X  X  X  .  .  .  .  .  .
            yb X  X  X  .  .  .  .  .  .
            yc X  X  X  .  .  .  .  .  .
            za X  X  X  .  .  .  .  .  .
            zb X  X  X  .  .  .  .  .  .
            zc X  X  X  .  .  .  .  .  .
            """)
    }

    @Test func multiplePoliciesAreUnioned() {
        var model = ClusterModel()
        model.add(networkPolicy(
            "from-b", selecting: selector(["pod": "a"]), ingress: [NetworkPolicyIngressRule(from: [peer(pods: ["pod": "b"])])]))
        model.add(networkPolicy(
            "from-y", selecting: selector(["pod": "a"]),
            ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: ["ns": "y"])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  .  .  .  .  .  .  .  .
            xb .  .  .  .  .  .  .  .  .
            xc X  .  .  .  .  .  .  .  .
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za X  .  .  .  .  .  .  .  .
            zb X  .  .  .  .  .  .  .  .
            zc X  .  .  .  .  .  .  .  .
            """)
    }

    @Test func allowAllPolicyTakesPrecedenceOverDenyAll() {
        var model = ClusterModel()
        model.add(networkPolicy("deny-all", types: [.ingress, .egress]))
        model.add(networkPolicy("allow-all", types: [.ingress, .egress], ingress: [NetworkPolicyIngressRule()],
            egress: [NetworkPolicyEgressRule()]))
        expectReachability(model, allConnected)
    }

    @Test func ingressAndEgressAreControlledIndependently() {
        var model = ClusterModel()
        model.add(networkPolicy("a-no-egress", selecting: selector(["pod": "a"]), types: [.egress]))
        model.add(networkPolicy("b-no-ingress", selecting: selector(["pod": "b"]), types: [.ingress]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  X  X  X  X  X  X
            xb .  .  .  .  .  .  .  .  .
            xc .  X  .  .  .  .  .  .  .
            ya .  X  .  .  .  .  .  .  .
            yb .  X  .  .  .  .  .  .  .
            yc .  X  .  .  .  .  .  .  .
            za .  X  .  .  .  .  .  .  .
            zb .  X  .  .  .  .  .  .  .
            zc .  X  .  .  .  .  .  .  .
            """)
    }

    @Test func portRangeWithEndPort() {
        var model = ClusterModel()
        model.add(networkPolicy("range", ingress: [NetworkPolicyIngressRule(ports: [port(81, endPort: 82)])]))
        expectReachability(model, allConnected, on: [(81, .tcp)])
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
            """, on: [(80, .tcp), (81, .udp)])
        model.networkPolicies = [networkPolicy("range", ingress: [NetworkPolicyIngressRule(ports: [port(80, endPort: 81)])])]
        expectReachability(model, allConnected, on: [(80, .tcp), (81, .tcp)])
    }

    @Test func aUDPPolicyDoesNotAllowTCPAndSCTPIsNotTCP() {
        var model = ClusterModel()
        model.add(networkPolicy("udp", ingress: [NetworkPolicyIngressRule(ports: [port(81, .udp)])]))
        expectReachability(model, allConnected, on: [(81, .udp)])
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
            """, on: [(81, .sctp), (81, .tcp)])
    }

    @Test func clientSideEgressDenyWinsOverServerSideAllow() {
        var model = ClusterModel()
        model.add(networkPolicy("x-egress-to-y", types: [.egress],
            egress: [NetworkPolicyEgressRule(to: [peer(namespaces: ["ns": "y"])])]))
        model.add(networkPolicy("z-allows-all", in: "z", ingress: [NetworkPolicyIngressRule(from: [peer(namespaces: [:])])]))
        expectReachability(model, """
            -  xa xb xc ya yb yc za zb zc
            xa .  X  X  .  .  .  X  X  X
            xb X  .  X  .  .  .  X  X  X
            xc X  X  .  .  .  .  X  X  X
            ya .  .  .  .  .  .  .  .  .
            yb .  .  .  .  .  .  .  .  .
            yc .  .  .  .  .  .  .  .  .
            za .  .  .  .  .  .  .  .  .
            zb .  .  .  .  .  .  .  .  .
            zc .  .  .  .  .  .  .  .  .
            """)
    }
}
