import Testing
import YAML

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct LimitTests {
    static func billionLaughs(levels: Int) -> String {
        var text = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1..<levels {
            let aliases = Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ")
            text += "l\(level): &l\(level) [\(aliases)]\n"
        }
        return text
    }

    @Test("a billion laughs document fails fast with a clear error")
    func billionLaughsFailsFast() throws {
        let clock = ContinuousClock()
        var caught: YAMLError?
        let elapsed = clock.measure { caught = parseError(Self.billionLaughs(levels: 10)) }
        let error = try #require(caught)
        #expect(error.message.contains("aliases expand to more than 1000000 nodes"))
        #expect(error.position != nil)
        #expect(elapsed < .milliseconds(100))
    }

    @Test("aliases within the budget are expanded")
    func aliasesWithinBudgetExpand() throws {
        let value = try parseValue(Self.billionLaughs(levels: 4))
        #expect(value["l3"]?[8]?[8]?[8]?[8] == "lol")
        #expect(value["l3"]?.arrayValue?.count == 9)
    }

    @Test("the alias budget counts logical nodes")
    func aliasBudgetCountsLogicalNodes() {
        let limits = YAMLLimits(maxAliasExpansion: 20)
        // 3 aliases of a 4-node list add 12 nodes; 6 add 24.
        #expect(parseError("a: &a [1, 2, 3]\nb: [*a, *a, *a]\n", limits: limits) == nil)
        #expect(
            parseError("a: &a [1, 2, 3]\nb: [*a, *a, *a, *a, *a, *a]\n", limits: limits)?.position
                == SourcePosition(line: 2, column: 25))
    }

    @Test("nesting deeper than the limit is an error", arguments: [("[", "]"), ("{a: ", "}"), ("- ", "")])
    func deepNestingIsAnError(open: String, close: String) throws {
        let limits = YAMLLimits(maxDepth: 50)
        func nested(_ depth: Int) -> String {
            if open == "- " {
                return (0..<depth).map { String(repeating: "  ", count: $0) + "-" }.joined(separator: "\n") + " x\n"
            }
            return String(repeating: open, count: depth) + "x" + String(repeating: close, count: depth)
        }
        #expect(parseError(nested(50), limits: limits) == nil)
        let error = try #require(parseError(nested(51), limits: limits))
        #expect(error.message == "nesting is deeper than 50 levels (YAMLLimits.maxDepth)")
    }

    @Test("very deep nesting with the default limits fails without exhausting the stack")
    func veryDeepNestingFails() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(parseError(text)?.message == "nesting is deeper than 256 levels (YAMLLimits.maxDepth)")
    }

    @Test("aliases count toward depth")
    func aliasesCountTowardDepth() {
        let limits = YAMLLimits(maxDepth: 4)
        #expect(parseError("a: &a [[[1]]]\n", limits: limits) == nil)
        #expect(
            parseError("a: &a [[[1]]]\nb: [*a]\n", limits: limits)?.message
                == "nesting is deeper than 4 levels (YAMLLimits.maxDepth)")
    }

    @Test("input larger than the size limit is rejected before parsing")
    func oversizedInputIsRejected() {
        let limits = YAMLLimits(maxDocumentBytes: 10)
        #expect(
            parseError("a: 1234567890\n", file: "big.yaml", limits: limits)?.description
                == "big.yaml: input is 14 bytes, more than the limit of 10 bytes")
        #expect(parseError("a: 1\n", limits: limits) == nil)
    }
}
