import Testing
import YAML

/// One permission: a verb on a resource of an API group (`""` is the core group).
struct Permission: Hashable, Comparable, CustomStringConvertible {
    var group: String
    var resource: String
    var verb: String

    init(_ group: String, _ resource: String, _ verb: String) {
        self.group = group
        self.resource = resource
        self.verb = verb
    }

    var description: String { "\(group.isEmpty ? "core" : group)/\(resource):\(verb)" }
    static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }

    /// Every permission a Role or ClusterRole grants, one per (group, resource, verb).
    static func granted(by role: ManifestObject) throws -> Set<Permission> {
        var permissions = Set<Permission>()
        for (index, rule) in (role["rules"]?.arrayValue ?? []).enumerated() {
            guard let groups = rule["apiGroups"]?.stringArray, let resources = rule["resources"]?.stringArray,
                let verbs = rule["verbs"]?.stringArray
            else { throw TestFailure("\(role.kind) \(role.name) rule \(index) lacks apiGroups, resources or verbs") }
            for group in groups {
                for resource in resources {
                    for verb in verbs {
                        permissions.insert(Permission(group, resource, verb))
                    }
                }
            }
        }
        return permissions
    }

    static func set(_ group: String, _ resources: [String], _ verbs: [String]) -> Set<Permission> {
        Set(resources.flatMap { resource in verbs.map { Permission(group, resource, $0) } })
    }
}

@Suite("RBAC: least privilege")
struct RBACTests {
    let objects: [ManifestObject]
    init() throws { objects = try Manifests.installAndCleanup() }

    var roles: [ManifestObject] { objects.filter { $0.kind == "ClusterRole" || $0.kind == "Role" } }

    @Test("the ClusterRole grants exactly reads of what policies select, status patch and events")
    func clusterRoleGrantsExactlyTheAgentsPermissions() throws {
        let clusterRole = try Manifests.single(kind: "ClusterRole", name: "bulwark-agent", in: objects)
        let read = ["get", "list", "watch"]
        let expected = Permission.set("", ["pods", "namespaces", "services"], read)
            .union(Permission.set("discovery.k8s.io", ["endpointslices"], read))
            .union(Permission.set("networking.k8s.io", ["networkpolicies"], read))
            .union(Permission.set("bulwark.dev", ["bulwarkpolicies"], read))
            .union(Permission.set("bulwark.dev", ["bulwarkpolicies/status"], ["patch"]))
            .union(Permission.set("events.k8s.io", ["events"], ["create", "patch"]))
        let granted = try Permission.granted(by: clusterRole)
        #expect(granted.subtracting(expected).sorted() == [], "granted but not expected")
        #expect(expected.subtracting(granted).sorted() == [], "expected but not granted")
    }

    @Test("leases are granted only by a Role in bulwark-system, and only get, create and update")
    func leasesOnlyInTheAgentNamespace() throws {
        let leaseRoles = try roles.filter { try Permission.granted(by: $0).contains { $0.resource == "leases" } }
        #expect(leaseRoles.map(\.kind) == ["Role"])
        let role = try #require(leaseRoles.first)
        #expect(role.namespace == "bulwark-system")
        #expect(
            try Permission.granted(by: role)
                == Permission.set("coordination.k8s.io", ["leases"], ["get", "create", "update"]))
    }

    @Test("no role uses a wildcard, a non-resource URL, or a verb that escalates, impersonates or deletes")
    func noWildcardsAnywhere() throws {
        for role in roles {
            for rule in role["rules"]?.arrayValue ?? [] {
                for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
                    #expect(!(rule[field]?.stringArray ?? []).contains { $0.contains("*") }, "\(role.name) \(field)")
                }
                #expect(rule["nonResourceURLs"] == nil, "\(role.name) grants non-resource URLs")
            }
            let verbs = Set(try Permission.granted(by: role).map(\.verb))
            #expect(verbs.isDisjoint(with: ["escalate", "bind", "impersonate", "delete", "deletecollection"]))
        }
    }

    @Test("no role can touch secrets, configmaps or serviceaccount tokens")
    func noSecrets() throws {
        for role in roles {
            let resources = Set(try Permission.granted(by: role).map(\.resource))
            #expect(resources.isDisjoint(with: ["secrets", "configmaps", "serviceaccounts", "serviceaccounts/token"]))
        }
    }

    @Test("the bindings give the roles to the agent's service account and to nobody else")
    func bindingsNameOnlyTheAgentServiceAccount() throws {
        let agent: JSONValue = ["kind": "ServiceAccount", "name": "bulwark-agent", "namespace": "bulwark-system"]
        let serviceAccount = try Manifests.single(kind: "ServiceAccount", name: "bulwark-agent", in: objects)
        #expect(serviceAccount.namespace == "bulwark-system")

        let clusterBinding = try Manifests.single(kind: "ClusterRoleBinding", name: "bulwark-agent", in: objects)
        #expect(clusterBinding["roleRef"]?["kind"]?.stringValue == "ClusterRole")
        #expect(clusterBinding["roleRef"]?["name"]?.stringValue == "bulwark-agent")
        #expect(clusterBinding["subjects"] == .array([agent]))

        let binding = try Manifests.single(kind: "RoleBinding", name: "bulwark-agent-leader-election", in: objects)
        #expect(binding.namespace == "bulwark-system")
        #expect(binding["roleRef"]?["kind"]?.stringValue == "Role")
        #expect(binding["roleRef"]?["name"]?.stringValue == "bulwark-agent-leader-election")
        #expect(binding["subjects"] == .array([agent]))

        #expect(objects.filter { $0.kind.hasSuffix("Binding") }.count == 2, "no other binding ships")
    }
}
