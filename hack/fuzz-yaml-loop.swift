// Fallback driver for hack/fuzz-yaml when libFuzzer is unavailable: the seeded mutation generator of the test
// suite, for as many iterations as asked. Usage: fuzz-yaml-loop [seed] [iterations]
@main
enum FuzzYAMLLoop {
    static func main() {
        let arguments = CommandLine.arguments
        let seed = arguments.count > 1 ? UInt64(arguments[1]) ?? 1 : 1
        let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
        var generator = MutationGenerator(seed: seed)
        let clock = ContinuousClock()
        let start = clock.now
        for iteration in 1...iterations {
            checkYAMLInvariants(generator.next())
            if iteration % 100_000 == 0 { print("\(iteration) inputs, \(clock.now - start)") }
        }
        print("seed \(seed): \(iterations) inputs without a failure in \(clock.now - start)")
    }
}
