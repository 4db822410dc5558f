import Testing
import YAML

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct StreamTests {
    static let streams: [(String, [JSONValue])] = [
        ("", []),
        ("# only a comment\n", []),
        ("\n\n", []),
        ("a: 1\n", [["a": 1]]),
        ("---\na: 1\n", [["a": 1]]),
        ("a: 1\n---\nb: 2\n", [["a": 1], ["b": 2]]),
        ("a: 1\n...\n---\nb: 2\n...\n", [["a": 1], ["b": 2]]),
        // An empty document is null (kubectl skips such documents; callers do the same).
        ("---\n", [nil]),
        ("a: 1\n---\n---\nb: 2\n", [["a": 1], nil, ["b": 2]]),
        ("---\n# comment\n---\n", [nil, nil]),
        ("--- 5\n--- text\n", [5, "text"]),
        ("- a\n- b\n", [["a", "b"]]),
        ("{\"json\": [1, 2.5, true, null]}", [["json": [1, 2.5, true, nil]]]),
    ]

    @Test("a stream gives one value per document", arguments: streams)
    func streamGivesOneValuePerDocument(yaml: String, expected: [JSONValue]) throws {
        #expect(try YAML.parseAll(yaml).map(\.value) == expected)
    }

    @Test("documents remember their file and where they start")
    func documentsRememberFileAndStart() throws {
        let documents = try YAML.parseAll("a: 1\n---\n\n  b: 2\n", file: "two.yaml")
        #expect(documents.map(\.file) == ["two.yaml", "two.yaml"])
        #expect(documents.map(\.start) == [SourcePosition(line: 1, column: 1), SourcePosition(line: 4, column: 3)])
    }

    @Test("parseOne rejects streams without exactly one document")
    func parseOneRejectsOtherCounts() {
        #expect(throws: YAMLError(message: "expected one YAML document, found 0")) { try YAML.parseOne("") }
        #expect(
            throws: YAMLError(
                position: SourcePosition(line: 3, column: 1), message: "expected one YAML document, found 2")
        ) {
            try YAML.parseOne("a: 1\n---\nb: 2\n")
        }
    }

    @Test("byte order marks, UTF-16 and CRLF line ends are accepted")
    func byteOrderMarkAndCRLFAreAccepted() throws {
        let documents = try YAML.parseAll([0xEF, 0xBB, 0xBF] + Array("a: 1\r\nb: x\r\n".utf8))
        #expect(documents.map(\.value) == [["a": 1, "b": "x"]])
        let littleEndian = "é: 1\n".utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let utf16: [UInt8] = [0xFF, 0xFE] + littleEndian
        #expect(try YAML.parseAll(utf16).map(\.value) == [["é": 1]])
    }

    @Test("files are read and errors name them")
    func filesAreReadAndErrorsNameThem() throws {
        let path = "/tmp/bulwark-yaml-test-\(getpid()).yaml"
        try "a: [1, 2\n".write(toFile: path)
        defer { unlink(path) }
        #expect(throws: YAMLError.self) { try YAML.parseAll(contentsOf: path) }
        let error = try #require(catching { try YAML.parseAll(contentsOf: path) })
        #expect(error.file == path)
        #expect(error.description.hasPrefix("\(path):2:1: "))
        #expect(
            (catching { try YAML.parseAll(contentsOf: "/nonexistent/x.yaml") })?.description
                == "/nonexistent/x.yaml: no such file")
        try "kind: Pod\n".write(toFile: path)
        #expect(try YAML.parseAll(contentsOf: path).map(\.value) == [["kind": "Pod"]])
    }
}

/// The YAML error `body` throws, or nil when it succeeds.
func catching(_ body: () throws -> some Any) -> YAMLError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? YAMLError
    }
}
