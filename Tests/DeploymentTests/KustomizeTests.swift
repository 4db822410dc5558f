import Foundation
import Testing
import YAML

/// `kubectl kustomize manifests/` (offline) and `kubectl apply -f manifests/` must both see the same install.
@Suite("manifests/: kustomize render and plain apply")
struct KustomizeTests {
    static let kubectl = Command.find("kubectl")
    static let installKinds: Set<String> = [
        "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "DaemonSet",
    ]

    func render(_ directory: String) throws -> [ManifestObject] {
        let kubectl = try #require(Self.kubectl)
        let result = try Command.run(kubectl, ["kustomize", directory])
        try #require(result.status == 0, "kubectl kustomize \(directory) failed: \(result.stderr)")
        return try Manifests.objects(inYAML: result.stdout, file: "kubectl kustomize \(directory)")
    }

    @Test(
        "kubectl kustomize renders the install offline, every namespaced object in bulwark-system",
        .enabled(if: kubectl != nil, "kubectl is not installed"))
    func rendersOffline() throws {
        let rendered = try render(Repository.path("manifests"))
        #expect(Set(rendered.map(\.kind)) == Self.installKinds)
        for object in rendered where !["Namespace", "ClusterRole", "ClusterRoleBinding"].contains(object.kind) {
            #expect(object.namespace == "bulwark-system", "\(object.kind) \(object.name)")
        }
    }

    @Test(
        "kustomize and plain `kubectl apply -f manifests/` see the same objects",
        .enabled(if: kubectl != nil, "kubectl is not installed"))
    func kustomizeAndPlainApplyAgree() throws {
        func identities(_ objects: [ManifestObject]) -> [String] {
            objects.map { "\($0.kind) \($0.namespace ?? "-")/\($0.name)" }.sorted()
        }
        #expect(identities(try render(Repository.path("manifests"))) == identities(try Manifests.install()))
    }

    @Test("plain apply reads only Kubernetes objects, the Namespace first")
    func plainApplyReadsOnlyObjects() throws {
        let objects = try Manifests.install()
        for object in objects {
            #expect(!object.apiVersion.isEmpty && !object.kind.isEmpty && !object.name.isEmpty, "\(object.file)")
            #expect(!object.apiVersion.hasPrefix("kustomize.config.k8s.io"), "\(object.file) would fail to apply")
        }
        #expect(objects.first?.kind == "Namespace", "namespaced objects need their namespace to exist first")
    }

    @Test("the Kustomization lists every manifest file and lets `images:` replace the image name bulwark")
    func kustomizationListsEveryFile() throws {
        let kustomization = try #require(try Manifests.objects(inFile: "manifests/Kustomization").first)
        let listed = kustomization["resources"]?.stringArray ?? []
        #expect(listed.sorted() == (try Manifests.applyFiles()).map { String($0.dropFirst("manifests/".count)) })
        let image = try #require(kustomization["images"]?[0])
        #expect(image["name"]?.stringValue == "bulwark")
    }

    @Test(
        "an overlay's images: entry replaces the agent image (how registries and kind-deploy set it)",
        .enabled(if: kubectl != nil, "kubectl is not installed"))
    func imageIsOverridable() throws {
        let overlay = Repository.path(".build-deployment-tests-overlay-\(getpid())")
        try FileManager.default.createDirectory(atPath: overlay, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: overlay) }
        let kustomization = """
            resources:
              - ../manifests
            images:
              - name: bulwark
                newName: registry.example.com/bulwark
                newTag: v1.2.3
            """
        try kustomization.write(toFile: overlay + "/kustomization.yaml", atomically: true, encoding: .utf8)
        let daemonSet = try Manifests.single(kind: "DaemonSet", name: "bulwark", in: render(overlay))
        let image = daemonSet["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"]?.stringValue
        #expect(image == "registry.example.com/bulwark:v1.2.3")
    }

    @Test("the uninstall helper renders on its own", .enabled(if: kubectl != nil, "kubectl is not installed"))
    func cleanupRenders() throws {
        let rendered = try render(Repository.path("manifests/cleanup"))
        #expect(rendered.map(\.kind) == ["DaemonSet"])
        #expect(rendered.first?.namespace == "bulwark-system")
    }
}
