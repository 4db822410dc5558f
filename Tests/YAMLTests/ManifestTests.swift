import Testing
import YAML

@Suite struct ManifestTests {
    @Test("a Deployment reads with the values kubectl would see")
    func deploymentReads() throws {
        let document = try YAML.parseOne(ManifestFixtures.deployment, file: "deployment.yaml")
        let deployment = document.value
        #expect(deployment["kind"] == "Deployment")
        #expect(deployment["metadata"]?["labels"]?["app.kubernetes.io/version"] == "1.25")
        #expect(deployment["spec"]?["replicas"] == 3)
        #expect(deployment["spec"]?["strategy"]?["rollingUpdate"]?["maxSurge"] == "25%")
        #expect(deployment["spec"]?["strategy"]?["rollingUpdate"]?["maxUnavailable"] == 0)
        let container = try #require(deployment[["spec", "template", "spec", "containers", 0]])
        #expect(container["image"] == "nginx:1.25.3")
        #expect(container["args"] == ["--port", "8080", "--verbose"])
        #expect(container["ports"]?[0]?["containerPort"] == 8080)
        #expect(container["env"]?[0]?["value"] == "true")
        #expect(container["env"]?[1]?["value"] == "#!/bin/sh\necho \"starting\"\n")
        #expect(container["resources"]?["requests"]?["cpu"] == 0.25)
        #expect(container["resources"]?["limits"]?["cpu"] == "500m")
        #expect(deployment[["spec", "template", "spec", "securityContext", "runAsNonRoot"]] == true)
        #expect(
            document.position(of: ["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"])
                == SourcePosition(line: 35, column: 15))
    }

    @Test("a NetworkPolicy reads with selectors, CIDRs and named ports")
    func networkPolicyReads() throws {
        let policy = try YAML.parseOne(ManifestFixtures.networkPolicy).value
        #expect(policy["spec"]?["policyTypes"] == ["Ingress", "Egress"])
        let ingress = try #require(policy[["spec", "ingress", 0]])
        #expect(
            ingress["from"]?[0]?["namespaceSelector"]?["matchExpressions"]?[0]
                == ["key": "team", "operator": "In", "values": ["payments", "checkout"]])
        #expect(ingress["from"]?[0]?["podSelector"]?["matchLabels"] == ["role": "frontend"])
        #expect(ingress["from"]?[1]?["ipBlock"] == ["cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]])
        #expect(
            ingress["ports"] == [
                ["protocol": "TCP", "port": 6379], ["protocol": "TCP", "port": 32000, "endPort": 32768],
                ["port": "http"],
            ])
        #expect(policy[["spec", "egress", 0, "ports", 0]] == ["protocol": "UDP", "port": 53])
    }

    @Test("a CRD keeps its schema, including enum strings and booleans")
    func customResourceDefinitionReads() throws {
        let crd = try YAML.parseOne(ManifestFixtures.customResourceDefinition).value
        let version = try #require(crd[["spec", "versions", 0]])
        #expect(version["served"] == true)
        #expect(version["subresources"] == ["status": [:]])
        let spec = try #require(version[["schema", "openAPIV3Schema", "properties", "spec", "properties"]])
        #expect(spec["priority"] == ["type": "integer", "minimum": 0, "maximum": 1000, "default": 100])
        #expect(spec["action"]?["enum"] == ["Allow", "Deny", "Log"])
        #expect(spec["ports"]?["items"]?["x-kubernetes-int-or-string"] == true)
        #expect(crd[["spec", "names", "shortNames"]] == ["bwp"])
    }

    @Test("a kind kubeconfig decodes into a typed model")
    func kindKubeconfigDecodes() throws {
        struct Kubeconfig: Decodable {
            struct NamedCluster: Decodable {
                struct Cluster: Decodable {
                    var server: String
                    var certificateAuthorityData: String?
                    enum CodingKeys: String, CodingKey {
                        case server
                        case certificateAuthorityData = "certificate-authority-data"
                    }
                }
                var name: String
                var cluster: Cluster
            }
            var clusters: [NamedCluster]
            var currentContext: String
            enum CodingKeys: String, CodingKey {
                case clusters
                case currentContext = "current-context"
            }
        }
        let value = try YAML.parseOne(ManifestFixtures.kindKubeconfig).value
        let config = try JSONValueDecoder().decode(Kubeconfig.self, from: value)
        #expect(config.currentContext == "kind-bulwark")
        #expect(config.clusters.first?.cluster.server == "https://127.0.0.1:36471")
        #expect(config.clusters.first?.cluster.certificateAuthorityData?.hasPrefix("LS0tLS1CRUdJTi") == true)
        #expect(value["users"]?[0]?["user"]?["client-key-data"]?.stringValue?.hasSuffix("==") == true)
    }

    @Test(
        "every fixture survives YAML and JSON round trips",
        arguments: [
            ManifestFixtures.deployment, ManifestFixtures.networkPolicy, ManifestFixtures.customResourceDefinition,
            ManifestFixtures.kindKubeconfig,
        ])
    func fixturesRoundTrip(yaml: String) throws {
        let value = try parseValue(yaml)
        #expect(try parseValue(YAML.emit(value)) == value)
        #expect(try JSON.parse(JSON.emit(value)) == value)
        #expect(try JSON.parse(JSON.emit(value, pretty: true)) == value)
        #expect(try parseValue(JSON.emit(value)) == value)
    }
}
