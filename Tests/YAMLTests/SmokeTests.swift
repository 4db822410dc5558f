import Testing
import YAML

@Test func aManifestParses() throws {
    let docs = try YAML.parseAll("a: 1\nb: [x, yes]\n")
    #expect(docs.count == 1)
    #expect(docs[0].value == ["a": 1, "b": ["x", true]])
}
