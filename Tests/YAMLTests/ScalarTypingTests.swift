import Testing
import YAML

/// Scalars are typed the way kubectl (sigs.k8s.io/yaml over go-yaml v2) reads them.
@Suite struct ScalarTypingTests {
    static let plainScalars: [(String, JSONValue)] = [
        // null
        ("~", nil), ("null", nil), ("Null", nil), ("NULL", nil), ("", nil),
        // booleans, including the YAML 1.1 words go-yaml v2 accepts
        ("true", true), ("True", true), ("TRUE", true), ("false", false), ("False", false), ("FALSE", false),
        ("yes", true), ("Yes", true), ("YES", true), ("no", false), ("No", false), ("NO", false),
        ("on", true), ("On", true), ("ON", true), ("off", false), ("Off", false), ("OFF", false),
        ("y", true), ("Y", true), ("n", false), ("N", false),
        ("tRUE", "tRUE"), ("yEs", "yEs"), ("nope", "nope"),
        // integers
        ("0", 0), ("42", 42), ("-17", -17), ("+12", 12), ("1_000", 1000), ("0x1F", 31), ("0X1f", 31),
        ("-0x10", -16), ("0o17", 15), ("0755", 493), ("0b101", 5), ("-0b11", -3),
        ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ("0x", "0x"), ("0xZZ", "0xZZ"), ("1a", "1a"), ("08", 8.0), ("1-2", "1-2"),
        // floats
        ("1.5", 1.5), ("-1.5", -1.5), ("+1.5", 1.5), (".5", 0.5), ("1.", 1.0), ("1e3", 1000.0), ("1E3", 1000.0),
        ("-1.5e-3", -0.0015), ("6.02e+23", 6.02e23), (".inf", .double(.infinity)), (".Inf", .double(.infinity)),
        ("+.INF", .double(.infinity)), ("-.inf", .double(-.infinity)), ("-.Inf", .double(-.infinity)),
        (".nan", .double(.nan)), (".NaN", .double(.nan)), (".NAN", .double(.nan)),
        ("1e400", "1e400"), (".", "."), ("1.2.3", "1.2.3"), ("inf", "inf"), ("nan", "nan"), (".5e", ".5e"),
        // strings that only look special
        ("2024-01-01", "2024-01-01"), ("10.0.0.0/8", "10.0.0.0/8"), ("1:2", "1:2"), ("v1", "v1"),
        ("80/TCP", "80/TCP"), ("-x", "-x"), ("+", "+"), ("<<x", "<<x"),
    ]

    @Test("plain scalars are typed like kubectl", arguments: plainScalars)
    func plainScalarsAreTypedLikeKubectl(text: String, expected: JSONValue) throws {
        let value = try parseValue("v: \(text)\n")
        #expect(value["v"] == expected, "\(text)")
    }

    static let quotedAndBlockScalars: [(String, JSONValue)] = [
        ("\"true\"", "true"), ("'yes'", "yes"), ("\"12\"", "12"), ("'0x1F'", "0x1F"), ("\"\"", ""), ("''", ""),
        ("\"null\"", "null"), ("'~'", "~"), ("\"1.5\"", "1.5"), ("|\n  80\n", "80\n"), (">-\n  true\n", "true"),
        ("\"a\\tb\"", "a\tb"), ("'it''s'", "it's"),
    ]

    @Test("quoted and block scalars are strings", arguments: quotedAndBlockScalars)
    func quotedAndBlockScalarsAreStrings(text: String, expected: JSONValue) throws {
        #expect(try parseValue("v: \(text)\n")["v"] == expected)
    }

    static let taggedScalars: [(String, JSONValue)] = [
        ("!!str 12", "12"), ("!!str true", "true"), ("!!str ~", "~"), ("!!int \"12\"", 12), ("!!int 0x10", 16),
        ("!!float 1", 1.0), ("!!float \"2.5\"", 2.5), ("!!bool \"yes\"", true), ("!!bool false", false),
        ("!!null ~", nil), ("!!null ''", nil), ("!custom 12", "12"), ("! 12", "12"),
        ("!!timestamp 2024-01-01", "2024-01-01"), ("!!binary aGVsbG8=", "aGVsbG8="),
        ("!<tag:yaml.org,2002:int> '7'", 7),
    ]

    @Test("explicit tags are honoured", arguments: taggedScalars)
    func explicitTagsAreHonoured(text: String, expected: JSONValue) throws {
        #expect(try parseValue("v: \(text)\n")["v"] == expected)
    }

    static let badTags: [(String, String)] = [
        ("v: !!int abc\n", "1:4: cannot decode \"abc\" as !!int"),
        ("v: !!int 1.5\n", "1:4: cannot decode \"1.5\" as !!int"),
        ("v: !!float abc\n", "1:4: cannot decode \"abc\" as !!float"),
        ("v: !!bool maybe\n", "1:4: cannot decode \"maybe\" as !!bool"),
        ("v: !!null x\n", "1:4: cannot decode \"x\" as !!null"),
        ("v: !!map x\n", "1:4: tag !!map cannot be used on a scalar"),
        ("v: !!seq {a: 1}\n", "1:4: tag !!seq cannot be used on a mapping"),
        ("v: !!map [1]\n", "1:4: tag !!map cannot be used on a sequence"),
    ]

    @Test("a value that does not fit its tag is an error at the value", arguments: badTags)
    func valueThatDoesNotFitItsTagIsAnError(yaml: String, expected: String) {
        #expect(parseError(yaml)?.description == expected)
    }

    @Test("collection tags that match are accepted")
    func matchingCollectionTagsAreAccepted() throws {
        #expect(
            try parseValue("a: !!map {x: 1}\nb: !!seq [1]\nc: !custom {z: 2}\n") == [
                "a": ["x": 1], "b": [1], "c": ["z": 2],
            ])
    }

    static let keys: [(String, String)] = [
        ("1: a", "1"), ("true: a", "true"), ("yes: a", "true"), ("off: a", "false"), ("y: a", "true"),
        ("0x10: a", "16"), ("1.5: a", "1.5"), ("'1': a", "1"), ("\"true\": a", "true"), ("~x: a", "~x"),
        ("\"<<\": a", "<<"), ("2.0: a", "2"),
    ]

    @Test("non-string keys become their text like sigs.k8s.io/yaml", arguments: keys)
    func nonStringKeysBecomeStrings(yaml: String, key: String) throws {
        let object = try #require(try parseValue(yaml + "\n").objectValue)
        #expect(object.keys == [key])
        #expect(object[key] == "a")
    }

    static let badKeys: [(String, String)] = [
        ("~: a\n", "1:1: a mapping key cannot be null"),
        ("? [1, 2]\n: a\n", "1:3: mapping keys must be scalars, found array"),
        ("{a: 1}: b\n", "1:1: mapping keys must be scalars, found object"),
        ("x: 1\n? ~\n: 2\n", "2:3: a mapping key cannot be null"),
    ]

    @Test("null and complex keys are errors", arguments: badKeys)
    func nullAndComplexKeysAreErrors(yaml: String, expected: String) {
        #expect(parseError(yaml)?.description == expected)
    }
}

/// go-yaml v2 reads single-letter keys y/Y/n/N as booleans; kubectl therefore sees `y: 1` as key "true".
@Test("single-letter y and n keys become true and false like kubectl")
func singleLetterBooleanKeys() throws {
    #expect(try parseValue("x: 1\ny: 2\nn: 3\n") == ["x": 1, "true": 2, "false": 3])
}
