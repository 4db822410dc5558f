import Testing
import YAML

/// Mutation fuzzing with a fixed seed: hostile input must give a value or a `YAMLError`, never a crash or hang,
/// and every value that parses must survive emit → parse unchanged.
@Suite struct FuzzTests {
    static let iterations = 12_000

    @Test("mutated documents never crash or hang and round-trip when they parse")
    func mutatedDocumentsAreSafe() throws {
        var generator = MutationGenerator(seed: 0xB01_3A4C)
        let clock = ContinuousClock()
        let start = clock.now
        var parsed = 0
        var failures: [String] = []
        for _ in 0..<Self.iterations {
            let input = generator.next()
            let documents: [YAMLDocument]
            do {
                documents = try YAML.parseAll(input, limits: YAMLLimits(maxDepth: 64, maxAliasExpansion: 10_000))
            } catch {
                #expect(!error.message.isEmpty)
                continue
            }
            parsed += 1
            if let problem = roundTripProblem(documents.map(\.value)), failures.count < 5 {
                failures.append("\(problem)\ninput: \(String(decoding: input, as: UTF8.self).debugDescription)")
            }
        }
        let elapsed = clock.now - start
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        // Both outcomes must be well represented, or the mutations are not exercising anything.
        #expect(parsed > Self.iterations / 10)
        #expect(parsed < Self.iterations * 9 / 10)
        #expect(elapsed < .seconds(20))
    }

    @Test("mutated JSON never crashes and round-trips when it parses")
    func mutatedJSONIsSafe() {
        var generator = MutationGenerator(seed: 7, corpus: MutationGenerator.jsonCorpus)
        var failures: [String] = []
        for _ in 0..<3_000 {
            let input = generator.next()
            guard let value = try? JSON.parse(input) else { continue }
            if (try? JSON.parse(JSON.emit(value))) != value, failures.count < 5 {
                failures.append(String(decoding: input, as: UTF8.self).debugDescription)
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("random strings and numbers survive emit and parse as keys and values")
    func randomScalarsRoundTrip() {
        var random = SplitMix64(seed: 42)
        let alphabet = Array("ab yZ09:-#'\"\n\n\t\r\\{}[],&*!|>%@`?~.+_\u{0}\u{7F}\u{85}\u{A0}\u{2028}\u{FEFF}é🎉")
        var failures: [String] = []
        for _ in 0..<4_000 {
            var members: [(String, JSONValue)] = []
            for _ in 0..<3 {
                let key = String((0..<random.below(8)).map { _ in alphabet[random.below(alphabet.count)] })
                let text = String((0..<random.below(24)).map { _ in alphabet[random.below(alphabet.count)] })
                let number = Double(bitPattern: random.next())
                let scalar: JSONValue = [.string(text), .double(number), .int(Int64(bitPattern: random.next()))][
                    random.below(3)]
                members.append((key, scalar))
            }
            let value = JSONValue.object(JSONObject(members))
            if let problem = roundTripProblem([value, .array([value]), value[members[0].0] ?? nil]), failures.count < 5
            {
                failures.append(problem)
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
    }
}

/// Why `values` do not survive a YAML (and, when representable, JSON) round trip; nil when they do.
func roundTripProblem(_ values: [JSONValue]) -> String? {
    let emitted = YAML.emitAll(values)
    do {
        let reparsed = try YAML.parseAll(emitted).map(\.value)
        guard reparsed == values else { return "YAML round trip changed the value:\n\(emitted)" }
    } catch {
        return "emitted YAML does not parse (\(error)):\n\(emitted)"
    }
    for value in values where isFinite(value) {
        guard (try? JSON.parse(JSON.emit(value))) == value else { return "JSON round trip changed \(value)" }
    }
    return nil
}

private func isFinite(_ value: JSONValue) -> Bool {
    switch value {
    case .double(let number): number.isFinite
    case .array(let elements): elements.allSatisfy(isFinite)
    case .object(let object): object.allSatisfy { isFinite($0.value) }
    default: true
    }
}
