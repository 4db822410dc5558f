import KubeModel
import Testing
import YAML

@testable import Agent

/// The pod cache keeps only what the agent reads.
struct PodCacheTransformTests {
    @Test func podsKeepTheirInterfaceAnnotationAndLoseTheRestOfWhatNobodyReads() throws {
        let yaml = """
            metadata:
              name: a
              namespace: x
              uid: 6f1c2d3e-4b5a-4c6d-8e7f-000000000001
              creationTimestamp: "2026-12-02T10:00:00Z"
              labels: {app: a}
              annotations: {bulwark.dev/interface: veth1, kubectl.kubernetes.io/last-applied-configuration: "{}"}
            spec: {nodeName: node-a, containers: [{name: c, ports: [{name: web, containerPort: 80}]}]}
            status: {phase: Running, podIP: 10.1.0.1}
            """
        let pod = try JSONValueDecoder().decode(Pod.self, from: try #require(try YAML.parseAll(yaml).first?.value))
        let kept = Informers.strip(pod)
        #expect(kept.metadata.annotations == [interfaceAnnotation: "veth1"])
        #expect(kept.metadata.uid == nil && kept.metadata.creationTimestamp == nil)
        #expect(kept.metadata.labels == pod.metadata.labels && kept.spec == pod.spec && kept.status == pod.status)
        var plain = pod
        plain.metadata.annotations = ["other": "x"]
        #expect(Informers.strip(plain).metadata.annotations == nil)
    }
}
