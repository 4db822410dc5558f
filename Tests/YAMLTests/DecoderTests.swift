import Testing
import YAML

@Suite struct DecoderTests {
    struct Port: Codable, Equatable {
        var port: Int32
        var `protocol`: String?
    }

    struct Rule: Codable, Equatable {
        var ports: [Port]?
        var from: [[String: [String: String]]]?
    }

    struct Spec: Codable, Equatable {
        var ingress: [Rule]
        var priority: Double?
        var enabled: Bool?
    }

    struct Policy: Codable, Equatable {
        var kind: String
        var labels: [String: String]
        var spec: Spec
        var extra: JSONValue?
    }

    static let yaml = """
        kind: NetworkPolicy
        unknown: ignored
        labels: {app: web, tier: "1"}
        spec:
          priority: 3
          ingress:
            - ports: [{port: 80}, {port: 443, protocol: TCP}]
              from: [{podSelector: {app: api}}]
            - ports: ~
        extra: {free: [form, 1]}
        """

    @Test("a typed model decodes from a parsed manifest")
    func typedModelDecodes() throws {
        let policy = try JSONValueDecoder().decode(Policy.self, from: parseValue(Self.yaml))
        #expect(policy.kind == "NetworkPolicy")
        #expect(policy.labels == ["app": "web", "tier": "1"])
        #expect(policy.spec.priority == 3.0)
        #expect(policy.spec.enabled == nil)
        #expect(policy.spec.ingress[0].ports == [Port(port: 80), Port(port: 443, protocol: "TCP")])
        #expect(policy.spec.ingress[0].from == [["podSelector": ["app": "api"]]])
        #expect(policy.spec.ingress[1].ports == nil)
        #expect(policy.extra == ["free": ["form", 1]])
    }

    static let failures: [(String, String)] = [
        ("kind: 5\nlabels: {}\nspec: {ingress: []}\n", "kind: expected string, found integer 5"),
        ("kind: P\nlabels: {a: 1}\nspec: {ingress: []}\n", "labels.a: expected string, found integer 1"),
        (
            "kind: P\nlabels: {}\nspec: {ingress: [{ports: [{port: http}]}]}\n",
            "spec.ingress[0].ports[0].port: expected integer, found string \"http\""
        ),
        (
            "kind: P\nlabels: {}\nspec: {ingress: [{ports: [{port: 1.5}]}]}\n",
            "spec.ingress[0].ports[0].port: expected integer, found number 1.5"
        ),
        (
            "kind: P\nlabels: {}\nspec: {ingress: [{ports: [{port: 3000000000}]}]}\n",
            "spec.ingress[0].ports[0].port: 3000000000 is out of range for Int32 (-2147483648...2147483647)"
        ),
        (
            "kind: P\nlabels: {}\nspec: {ingress: [{ports: [{}]}]}\n",
            "spec.ingress[0].ports[0].port: required field is missing"
        ),
        ("kind: P\nlabels: {}\n", "spec: required field is missing"),
        ("kind: P\nlabels: []\nspec: {ingress: []}\n", "labels: expected object, found array"),
        ("kind: P\nlabels: {}\nspec: {ingress: {}}\n", "spec.ingress: expected array, found object"),
        (
            "kind: P\nlabels: {}\nspec: {ingress: [], enabled: yes, priority: x}\n",
            "spec.priority: expected number, found string \"x\""
        ),
        (
            "kind: P\nlabels: {}\nspec: {ingress: [], enabled: \"true\"}\n",
            "spec.enabled: expected boolean, found string \"true\""
        ),
        ("- 1\n", "expected object, found array"),
    ]

    @Test("decoding failures name the field path and the mismatch", arguments: failures)
    func decodingFailuresNameThePath(yaml: String, expected: String) throws {
        let value = try parseValue(yaml)
        #expect(throws: DecodingFailure.self) { try JSONValueDecoder().decode(Policy.self, from: value) }
        do {
            _ = try JSONValueDecoder().decode(Policy.self, from: value)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test("numbers decode into every numeric type that can hold them")
    func numbersDecode() throws {
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode(UInt16.self, from: 443) == 443)
        #expect(try decoder.decode(Int8.self, from: -5) == -5)
        #expect(try decoder.decode(UInt64.self, from: 7) == 7)
        #expect(try decoder.decode(Int.self, from: 2.0) == 2)
        #expect(try decoder.decode(Double.self, from: 2) == 2.0)
        #expect(try decoder.decode(Float.self, from: 0.5) == 0.5)
        #expect(throws: DecodingFailure(path: .root, message: "-1 is out of range for UInt16 (0...65535)")) {
            try decoder.decode(UInt16.self, from: -1)
        }
        #expect(try decoder.decode([Int?].self, from: [1, nil, 3]) == [1, nil, 3])
        #expect(try decoder.decode([String: Int].self, from: ["a": 1, "b": 2]) == ["a": 1, "b": 2])
    }

    enum Action: String, Codable {
        case allow = "Allow"
        case deny = "Deny"
    }

    struct Custom: Decodable, Equatable {
        var action: Action
        var weight: Int

        enum CodingKeys: String, CodingKey { case action, weight }

        init(action: Action, weight: Int) {
            self.action = action
            self.weight = weight
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            action = try container.decode(Action.self, forKey: .action)
            weight = try container.decodeIfPresent(Int.self, forKey: .weight) ?? 1
            guard weight > 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .weight, in: container, debugDescription: "must be positive")
            }
        }
    }

    @Test("hand-written initialisers, enums and thrown DecodingErrors work")
    func handWrittenInitialisers() throws {
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode(Custom.self, from: ["action": "Deny"]) == Custom(action: .deny, weight: 1))
        #expect(throws: DecodingFailure(path: ["weight"], message: "must be positive")) {
            try decoder.decode(Custom.self, from: ["action": "Allow", "weight": 0])
        }
        #expect(throws: DecodingFailure.self) { try decoder.decode(Custom.self, from: ["action": "Maybe"]) }
    }

    class Base: Decodable { var name: String }
    final class Derived: Base {
        var extra: Int
        enum Keys: String, CodingKey { case extra }
        required init(from decoder: any Decoder) throws {
            extra = try decoder.container(keyedBy: Keys.self).decode(Int.self, forKey: .extra)
            try super.init(from: decoder.container(keyedBy: Keys.self).superDecoder())
        }
    }

    @Test("superDecoder reads the super key")
    func superDecoderReadsSuperKey() throws {
        let derived = try JSONValueDecoder().decode(Derived.self, from: ["extra": 2, "super": ["name": "n"]])
        #expect(derived.name == "n" && derived.extra == 2)
    }

    @Test("coding paths reach hand-written code as field paths")
    func codingPathsReachCode() throws {
        struct Probe: Decodable {
            var path: String
            init(from decoder: any Decoder) throws { path = FieldPath(codingPath: decoder.codingPath).description }
        }
        let probes = try JSONValueDecoder().decode([String: [Probe]].self, from: ["a": [1, 2]])
        #expect(probes["a"]?.map(\.path) == ["a[0]", "a[1]"])
    }
}

@Suite struct EncoderTests {
    struct Port: Codable, Equatable {
        var port: Int32
        var name: String?
        var weight: Double
    }

    struct Policy: Codable, Equatable {
        var kind: String
        var labels: [String: String]
        var ports: [Port]
        var raw: JSONValue
        var flag: Bool
        var id: UInt64
    }

    @Test("encoding keeps member order, sorts dictionaries and omits nil")
    func encodingShapesOutput() throws {
        let policy = Policy(
            kind: "P", labels: ["z": "1", "a": "2", "m": "3"],
            ports: [Port(port: 80, name: nil, weight: 0.5)], raw: ["k": [1, nil]], flag: true, id: 7
        )
        let value = try JSONValueEncoder().encode(policy)
        #expect(value.objectValue?.keys == ["kind", "labels", "ports", "raw", "flag", "id"])
        #expect(value["labels"]?.objectValue?.keys == ["a", "m", "z"])
        #expect(value["ports"] == [["port": 80, "weight": 0.5]])
        #expect(value["raw"] == ["k": [1, nil]])
        #expect(try JSONValueDecoder().decode(Policy.self, from: value) == policy)
        let expected = #"{"kind":"P","labels":{"a":"2","m":"3","z":"1"},"ports":[{"port":80,"weight":0.5}],"#
            + #""raw":{"k":[1,null]},"flag":true,"id":7}"#
        #expect(JSON.emit(value) == expected)
    }

    @Test("sortsKeys sorts every object")
    func sortsKeysSortsEverything() throws {
        var encoder = JSONValueEncoder()
        encoder.sortsKeys = true
        let value = try encoder.encode(Port(port: 1, name: "n", weight: 1))
        #expect(value.objectValue?.keys == ["name", "port", "weight"])
    }

    @Test("top-level primitives, arrays and optionals encode")
    func topLevelValuesEncode() throws {
        let encoder = JSONValueEncoder()
        #expect(try encoder.encode("x") == "x")
        #expect(try encoder.encode([1, 2]) == [1, 2])
        #expect(try encoder.encode([Int?.none, 3]) == [nil, 3])
        #expect(try encoder.encode(UInt64.max) == .double(Double(UInt64.max)))
        #expect(try encoder.encode(Float(0.1)) == 0.1)
    }
}
