import Testing
import YAML

@Suite struct AnchorAndMergeTests {
    static let cases: [(String, JSONValue)] = [
        ("a: &x 1\nb: *x\n", ["a": 1, "b": 1]),
        ("a: &x {p: 1}\nb: *x\n", ["a": ["p": 1], "b": ["p": 1]]),
        ("a: &x [1, 2]\nb: [*x, *x]\n", ["a": [1, 2], "b": [[1, 2], [1, 2]]]),
        // anchors may be redefined; an alias uses the latest definition
        ("a: &x 1\nb: &x 2\nc: *x\n", ["a": 1, "b": 2, "c": 2]),
        // merge a single map; explicit keys win wherever they appear
        ("base: &b {x: 1, y2: 2}\nm:\n  <<: *b\n  x: 9\n", ["base": ["x": 1, "y2": 2], "m": ["x": 9, "y2": 2]]),
        ("base: &b {x: 1, y2: 2}\nm:\n  x: 9\n  <<: *b\n", ["base": ["x": 1, "y2": 2], "m": ["x": 9, "y2": 2]]),
        // merge a list of maps: earlier maps win
        (
            "a: &a {k: a, p: 1}\nb: &b {k: b, q: 2}\nm:\n  <<: [*a, *b]\n",
            ["a": ["k": "a", "p": 1], "b": ["k": "b", "q": 2], "m": ["k": "a", "p": 1, "q": 2]]
        ),
        // an inline mapping can be merged too
        ("m:\n  <<: {z: 1}\n  w: 2\n", ["m": ["z": 1, "w": 2]]),
        // an explicitly tagged merge key merges
        ("m:\n  !!merge <<: {z: 1}\n", ["m": ["z": 1]]),
        // a quoted << is an ordinary key
        ("m:\n  \"<<\": {z: 1}\n", ["m": ["<<": ["z": 1]]]),
        // anchors on keys and aliases as keys
        ("&k key: 1\n*k : 2\n", nil),
    ]

    @Test("anchors, aliases and merge keys resolve", arguments: cases.dropLast())
    func anchorsAliasesAndMergesResolve(yaml: String, expected: JSONValue) throws {
        #expect(try parseValue(yaml) == expected)
    }

    @Test("an alias used as a key that repeats the anchored key is a duplicate")
    func aliasKeyCanDuplicate() {
        #expect(parseError("&k key: 1\n*k : 2\n")?.description == "2:1: duplicate key \"key\" (first at 1:1)")
    }

    @Test("merged keys keep their position in the document order")
    func mergedKeysKeepOrder() throws {
        let value = try parseValue("b: &b {p: 1, q: 2}\nm:\n  first: 0\n  <<: *b\n  last: 3\n")
        #expect(value["m"]?.objectValue?.keys == ["first", "p", "q", "last"])
    }

    static let errors: [(String, String)] = [
        ("a: *nope\n", "1:4: unknown anchor \"nope\""),
        ("a: &x [1, *x]\n", "1:11: unknown anchor \"x\""),
        ("---\na: &x 1\n---\nb: *x\n", "4:4: unknown anchor \"x\""),
        ("m:\n  <<: 5\n", "2:3: merge key << needs a mapping or a sequence of mappings, found integer"),
        ("m:\n  <<: [{a: 1}, 2]\n", "2:3: merge key << needs mappings, found a sequence containing integer"),
    ]

    @Test("bad aliases and merges are errors with positions", arguments: errors)
    func badAliasesAndMergesAreErrors(yaml: String, expected: String) {
        #expect(parseError(yaml)?.description == expected)
    }
}
