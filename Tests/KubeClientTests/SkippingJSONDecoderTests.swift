import Foundation
import Testing

@testable import KubeClient

@Suite struct SkippingJSONDecoderTests {
    private struct Wanted: Decodable, Equatable {
        struct Inner: Decodable, Equatable {
            var n: Int32
            var flag: Bool?
        }

        var name: String
        var count: Int64
        var ratio: Double?
        var labels: [String: String]?
        var items: [Inner]
        var missing: String?
        var nothing: String?
    }

    private let document = #"""
        { "skipped": {"a": [1, {"b": "}]\"{["}], "c": null, "d": "\\\"quoted\\\""},
          "name": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n",
          "count": -9007199254740993, "ratio": 1.5e3,
          "labels": {"app": "web", "tier": ""},
          "items": [ {"n": 1, "flag": true, "extra": [[], {}]}, {"n": 2, "flag": null} ],
          "nothing": null, "trailing": [true, false, -0.5e-2] }
        """#

    @Test func decodesWantedFieldsAndSkipsTheRestWhateverItContains() throws {
        let value = try SkippingJSONDecoder().decode(Wanted.self, from: Data(document.utf8))
        #expect(value.name == "café 😀 \"q\" \\ / \n")
        #expect(value.count == -9_007_199_254_740_993)
        #expect(value.ratio == 1500)
        #expect(value.labels == ["app": "web", "tier": ""])
        #expect(value.items == [.init(n: 1, flag: true), .init(n: 2, flag: nil)])
        #expect(value.missing == nil && value.nothing == nil)
    }

    @Test func agreesWithFoundationsDecoder() throws {
        let ours = try SkippingJSONDecoder().decode(Wanted.self, from: Data(document.utf8))
        let foundation = try JSONDecoder().decode(Wanted.self, from: Data(document.utf8))
        #expect(ours == foundation)
    }

    @Test func typeErrorsNameTheCodingPath() throws {
        let bad = #"{"name": "x", "count": 1, "items": [{"n": 1}, {"n": "two"}]}"#
        do {
            _ = try SkippingJSONDecoder().decode(Wanted.self, from: Data(bad.utf8))
            Issue.record("expected a type mismatch")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["items", "1", "n"])
        }
    }

    @Test(arguments: [
        #"{"name": "x", "count": 1.5, "items": []}"#,
        #"{"name": "x", "count": 99999999999999999999, "items": []}"#,
        #"{"name": "x", "count": 1, "items": [}"#,
        #"{"name": "unterminated, "count": 1, "items": []"#,
        #"{"count": 1, "items": []}"#,
        #"{"name": null, "count": 1, "items": []}"#,
    ])
    func invalidDocumentsAreRejected(text: String) {
        #expect(throws: DecodingError.self) {
            _ = try SkippingJSONDecoder().decode(Wanted.self, from: Data(text.utf8))
        }
    }
}
