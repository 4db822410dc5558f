import Testing
import YAML

@Suite struct YAMLEmitTests {
    static let quotedStrings: [String] = [
        "true", "True", "false", "yes", "no", "on", "Off", "y", "N", "null", "Null", "~", "", "1", "-1", "+1", "0x1F",
        "0o17", "0755", "1_000", "1.5", ".5", "1e3", ".inf", "-.Inf", ".nan", "<<",
    ]

    @Test("strings that would read back as another type are quoted", arguments: quotedStrings)
    func stringsThatWouldRetypeAreQuoted(text: String) throws {
        let emitted = YAML.emit(["v": .string(text)])
        #expect(emitted == "v: \"\(text)\"\n")
        #expect(try parseValue(emitted) == ["v": .string(text)])
    }

    static let plainStrings: [(String, String)] = [
        ("web", "web"), ("10.0.0.0/8", "10.0.0.0/8"), ("2024-01-01", "2024-01-01"), ("a b", "a b"),
        ("1.2.3", "1.2.3"), ("x:y", "x:y"),
    ]

    @Test("ordinary strings stay plain", arguments: plainStrings)
    func ordinaryStringsStayPlain(text: String, expected: String) {
        #expect(YAML.emit(["v": .string(text)]) == "v: \(expected)\n")
    }

    static let syntaxStrings: [String] = [
        " leading", "trailing ", "a: b", "# comment", "- dash", "[x]", "{x}", "*star", "&amp", "!bang", "|pipe",
        ">gt", "'single", "\"double", "%pct", "@at", "`tick", "tab\there", "nul\u{0}byte", "bell\u{7}", "é unicode",
        "emoji 🎉", "\u{FEFF}bom", "line\r\nbreak", "a\u{2028}b", "?", "? q", ":", "-", "---", "...",
    ]

    @Test("strings with YAML syntax round-trip", arguments: syntaxStrings)
    func stringsWithSyntaxRoundTrip(text: String) throws {
        let value: JSONValue = ["k": .string(text), .init(stringLiteral: text): 1]
        #expect(try parseValue(YAML.emit(value)) == value)
    }

    @Test("multi-line strings are emitted as literal blocks")
    func multiLineStringsAreLiteralBlocks() throws {
        let value: JSONValue = ["script": "set -e\necho hi\n", "keep": "a\nb", "trailing": "x\n\n"]
        let emitted = YAML.emit(value)
        #expect(emitted.contains("script: |\n  set -e\n  echo hi\n"))
        #expect(emitted.contains("keep: |-\n  a\n  b\n"))
        #expect(try parseValue(emitted) == value)
    }

    static let scalars: [(JSONValue, String)] = [
        (nil, "null"), (true, "true"), (false, "false"), (0, "0"), (-42, "-42"), (.int(.max), "9223372036854775807"),
        (1.0, "1.0"), (0.1, "0.1"), (-2.5e-8, "-2.5e-08"), (1e300, "1e+300"), (.double(.infinity), ".inf"),
        (.double(-.infinity), "-.inf"), (.double(.nan), ".nan"), ([], "[]"), (["a": [:]], "a: {}"),
    ]

    @Test("scalars and empty collections emit in their canonical form", arguments: scalars)
    func scalarsEmitCanonically(value: JSONValue, expected: String) throws {
        #expect(YAML.emit(value) == expected + "\n")
        #expect(try parseValue(YAML.emit(value)) == value)
    }

    @Test("nested values emit as block YAML in member order")
    func nestedValuesEmitAsBlocks() {
        let value: JSONValue = ["kind": "Pod", "spec": ["containers": [["name": "c", "ports": [80, 443]]]], "a": 1]
        #expect(
            YAML.emit(value) == """
                kind: Pod
                spec:
                  containers:
                  - name: c
                    ports:
                    - 80
                    - 443
                a: 1

                """)
    }

    @Test("several documents are separated by ---")
    func severalDocumentsAreSeparated() throws {
        let values: [JSONValue] = [["a": 1], "text", nil, ["b": [true]]]
        let emitted = YAML.emitAll(values)
        #expect(emitted.hasPrefix("a: 1\n--- text\n"))
        #expect(try YAML.parseAll(emitted).map(\.value) == values)
        #expect(YAML.emitAll([]) == "")
    }
}

@Suite struct JSONTests {
    static let documents: [(String, JSONValue)] = [
        ("null", nil), ("true", true), (" false ", false), ("0", 0), ("-0", 0), ("-12", -12), ("1.5", 1.5),
        ("1e3", 1000.0), ("-2.5E-3", -0.0025), ("9223372036854775807", .int(.max)),
        ("9223372036854775808", 9_223_372_036_854_775_808.0),
        ("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "a\"b\\c/d\u{8}\u{c}\n\r\t"),
        ("\"\\u00e9\\u20AC\\ud83c\\udf89\"", "é€🎉"), ("\"é\"", "é"), ("[]", []), ("{}", [:]),
        ("[1, [2, {\"a\": [null]}]]", [1, [2, ["a": [nil]]]]),
        ("{\"b\": 1, \"a\": 2}", ["b": 1, "a": 2]), ("\u{FEFF}{}", [:]),
    ]

    @Test("valid JSON parses", arguments: documents)
    func validJSONParses(text: String, expected: JSONValue) throws {
        #expect(try JSON.parse(text) == expected)
    }

    @Test("object key order is kept")
    func objectKeyOrderIsKept() throws {
        #expect(try JSON.parse("{\"z\": 1, \"a\": 2, \"m\": 3}").objectValue?.keys == ["z", "a", "m"])
    }

    static let errors: [(String, String)] = [
        ("", "1:1: unexpected end of input, expected a value"),
        ("{\"a\": 1,}", "1:9: expected a string key, found '}'"),
        ("[1, 2", "1:6: unexpected end of input, expected ',' or ']'"),
        ("{\"a\" 1}", "1:6: expected ':' after an object key, found '1'"),
        ("{\n  \"a\": tru\n}", "2:8: unexpected 't', expected a value"),
        ("01", "1:2: numbers cannot have leading zeros"),
        ("1.", "1:3: expected digits after '.'"),
        ("1e", "1:3: expected digits in exponent"),
        ("-", "1:2: invalid number"),
        ("NaN", "1:1: unexpected 'N', expected a value"),
        ("\"a\nb\"", "1:3: control character in a string must be escaped"),
        ("\"\\x\"", "1:3: invalid escape '\\x'"),
        ("\"\\ud800\"", "1:8: unpaired UTF-16 surrogate in \\u escape"),
        ("{\"a\": 1, \"a\": 2}", "1:10: duplicate key \"a\""),
        ("1 2", "1:3: unexpected '2' after the JSON value"),
        ("'a'", "1:1: unexpected ''', expected a value"),
        ("1e999", "1:1: number 1e999 is out of range"),
        ("{\"é\": x}", "1:7: unexpected 'x', expected a value"),
    ]

    @Test("invalid JSON is an error with line and column", arguments: errors)
    func invalidJSONIsAnError(text: String, expected: String) {
        #expect(throws: YAMLError.self) { try JSON.parse(text) }
        #expect(catching { try JSON.parse(text) }?.description == expected)
    }

    @Test("invalid UTF-8 and excessive depth are errors")
    func invalidUTF8AndDepthAreErrors() {
        #expect(catching { try JSON.parse([0x22, 0xFF, 0x22]) }?.description == "1:2: invalid UTF-8 in a string")
        #expect(
            catching { try JSON.parse(String(repeating: "[", count: 600)) }?.description
                == "1:513: nesting is deeper than 512 levels")
    }

    static let emitted: [(JSONValue, String, String)] = [
        (nil, "null", "null"), (1, "1", "1"), (1.0, "1.0", "1.0"), (.double(.nan), "null", "null"),
        ("a\"\\\n\t\u{1}\u{7F}é", #""a\"\\\n\t\u0001\u007fé""#, #""a\"\\\n\t\u0001\u007fé""#),
        ([], "[]", "[]"), ([:], "{}", "{}"),
        (
            ["b": [1, nil], "a": [:]], #"{"b":[1,null],"a":{}}"#,
            "{\n  \"b\": [\n    1,\n    null\n  ],\n  \"a\": {}\n}"
        ),
    ]

    @Test("JSON emits compact and pretty text", arguments: emitted)
    func jsonEmits(value: JSONValue, compact: String, pretty: String) throws {
        #expect(JSON.emit(value) == compact)
        #expect(JSON.emit(value, pretty: true) == pretty)
        if value != .double(.nan) {
            #expect(try JSON.parse(compact) == value)
            #expect(try JSON.parse(pretty) == value)
        }
    }

    @Test(
        "doubles round-trip through JSON text exactly",
        arguments: [0.1, 1e-7, 123456789.123, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0])
    func doublesRoundTrip(number: Double) throws {
        #expect(try JSON.parse(JSON.emit(.double(number))) == .double(number))
        #expect(try parseValue(YAML.emit(.double(number))) == .double(number))
    }
}
