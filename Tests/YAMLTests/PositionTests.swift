import Testing
import YAML

@Suite struct PositionTests {
    static let manifest = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: web
        spec:
          ingress:
            - from:
                - podSelector: {matchLabels: {app: api}}
              ports:
                - port: 80
                - {port: http, protocol: TCP}
        """

    static let paths: [(FieldPath, SourcePosition?)] = [
        ([], SourcePosition(line: 1, column: 1)),
        (["kind"], SourcePosition(line: 2, column: 1)),
        (["metadata", "name"], SourcePosition(line: 4, column: 3)),
        (["spec", "ingress"], SourcePosition(line: 6, column: 3)),
        (["spec", "ingress", 0], SourcePosition(line: 7, column: 7)),
        (["spec", "ingress", 0, "ports", 1], SourcePosition(line: 11, column: 11)),
        (["spec", "ingress", 0, "ports", 1, "port"], SourcePosition(line: 11, column: 12)),
        (["spec", "ingress", 0, "ports", 1, "protocol"], SourcePosition(line: 11, column: 24)),
        (["spec", "ingress", 0, "ports", 0, "port"], SourcePosition(line: 10, column: 11)),
        (["spec", "ingress", 0, "from", 0, "podSelector", "matchLabels", "app"], SourcePosition(line: 8, column: 39)),
        (["spec", "egress"], nil),
        (["spec", "ingress", 5], nil),
        (["kind", "x"], nil),
    ]

    @Test("positions of field paths point at the key or element", arguments: paths)
    func positionsOfFieldPaths(path: FieldPath, expected: SourcePosition?) throws {
        let document = try YAML.parseOne(Self.manifest)
        #expect(document.position(of: path) == expected)
    }

    @Test("positions survive aliases and merges")
    func positionsSurviveAliasesAndMerges() throws {
        let document = try YAML.parseOne("base: &b\n  p: 1\nm:\n  <<: *b\n  q: 2\nc: *b\n")
        #expect(document.position(of: ["m", "p"]) == SourcePosition(line: 2, column: 3))
        #expect(document.position(of: ["m", "q"]) == SourcePosition(line: 5, column: 3))
        #expect(document.position(of: ["c", "p"]) == SourcePosition(line: 2, column: 3))
    }

    @Test("documents locate errors by field path")
    func documentsLocateErrors() throws {
        let document = try YAML.parseAll("a: 1\n---\nspec:\n  port: x\n", file: "p.yaml")[1]
        #expect(
            document.error(at: ["spec", "port"], "expected integer").description
                == "p.yaml:4:3: spec.port: expected integer")
        #expect(document.error(at: ["spec", "nope"], "missing").description == "p.yaml:3:1: spec.nope: missing")
        #expect(document.error(at: ["nope"], "missing").description == "p.yaml:3:1: nope: missing")
    }

    static let printedPaths: [(FieldPath, String)] = [
        ([], "(root)"),
        (["spec", "ingress", 0, "ports", 1, "port"], "spec.ingress[0].ports[1].port"),
        (["metadata", "labels", "app.kubernetes.io/name"], "metadata.labels[\"app.kubernetes.io/name\"]"),
        ([0, "a"], "[0].a"),
        (["x-y_z$"], "x-y_z$"),
        (["1a"], "[\"1a\"]"),
    ]

    @Test("field paths print like kubectl messages", arguments: printedPaths)
    func fieldPathsPrint(path: FieldPath, expected: String) {
        #expect(path.description == expected)
    }
}

@Suite struct LocatedDecodingTests {
    struct Port: Decodable { var port: Int32 }
    struct Spec: Decodable { var ports: [Port] }
    struct Policy: Decodable { var spec: Spec }

    @Test("decoding a document reports file, line, column and field path")
    func decodingReportsLocation() throws {
        let document = try YAML.parseAll("---\nspec:\n  ports:\n    - port: 80\n    - port: http\n", file: "p.yaml")[0]
        let error = try #require(catching { try document.decode(Policy.self) })
        #expect(error.description == "p.yaml:5:7: spec.ports[1].port: expected integer, found string \"http\"")
        let missing = try YAML.parseOne("spec:\n  ports:\n    - {}\n", file: "q.yaml")
        #expect(
            catching { try missing.decode(Policy.self) }?.description
                == "q.yaml:3:7: spec.ports[0].port: required field is missing")
    }

    @Test("labelled subscripts read members and elements")
    func labelledSubscripts() {
        let value: JSONValue = ["a": [1, 2]]
        #expect(value[key: "a"]?[index: 1] == 2)
        #expect(value[key: "b"] == nil && value[index: 0] == nil)
    }
}
