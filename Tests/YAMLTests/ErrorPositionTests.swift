import Testing
import YAML

@Suite struct ErrorPositionTests {
    static let syntaxErrors: [(String, String)] = [
        ("a: b: c\n", "policy.yaml:1:5: mapping values are not allowed in this context"),
        (
            "a:\n  - 1\n  b: 2\n",
            "policy.yaml:3:3: did not find expected '-' indicator (while parsing a block collection at 2:3)"
        ),
        ("a: [1, 2\n", "policy.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at 1:4)"),
        (
            "a: \"unterminated\n",
            "policy.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at 1:4)"
        ),
        (
            "a: 1\n\tb: 2\n",
            "policy.yaml:2:1: found a tab character that violates indentation (while scanning a plain scalar at 1:4)"
        ),
        ("key: value\n  other: 1\n", "policy.yaml:2:8: mapping values are not allowed in this context"),
        (
            "a: @x\n",
            "policy.yaml:1:4: found character that cannot start any token (while scanning for the next token at 1:4)"
        ),
    ]

    @Test("syntax errors carry libyaml's message and exact position", arguments: syntaxErrors)
    func syntaxErrorsCarryPosition(yaml: String, expected: String) {
        #expect(parseError(yaml, file: "policy.yaml")?.description == expected)
    }

    static let duplicates: [(String, String)] = [
        ("a: 1\nb: 2\na: 3\n", "3:1: duplicate key \"a\" (first at 1:1)"),
        ("x:\n  w: 1\n  w: 2\n", "3:3: duplicate key \"w\" (first at 2:3)"),
        ("{a: 1, a: 2}\n", "1:8: duplicate key \"a\" (first at 1:2)"),
        ("1: a\n\"1\": b\n", "2:1: duplicate key \"1\" (first at 1:1)"),
        ("yes: a\ntrue: b\n", "2:1: duplicate key \"true\" (first at 1:1)"),
    ]

    @Test("duplicate keys are errors at the second key", arguments: duplicates)
    func duplicateKeysAreErrors(yaml: String, expected: String) {
        #expect(parseError(yaml)?.description == expected)
    }

    @Test("duplicate keys are found in large mappings too")
    func duplicateKeysInLargeMappings() {
        let lines = (0..<100).map { "k\($0): \($0)" } + ["k42: again"]
        #expect(
            parseError(lines.joined(separator: "\n"))?.description == "101:1: duplicate key \"k42\" (first at 43:1)")
    }

    @Test("invalid UTF-8 is reported with its byte offset")
    func invalidUTF8IsReported() throws {
        let error = try #require(catching { try YAML.parseAll(Array("a: ".utf8) + [0xFF, 0x0A]) })
        #expect(error.message == "invalid leading UTF-8 octet at byte 3")
    }
}
