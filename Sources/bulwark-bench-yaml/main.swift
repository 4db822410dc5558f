import Foundation
// Parse-throughput benchmark for the YAML module (run through `hack/bench-yaml`, which also times PyYAML's
// libyaml-based CSafeLoader on the same file). Prints figures; asserts nothing.
//
// Usage: bulwark-bench-yaml <manifests.yaml> [runs] [--parse-only]
import YAML

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: bulwark-bench-yaml <manifests.yaml> [runs]")
    exit(2)
}
let path = arguments[1]
let runs = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
guard let data = FileManager.default.contents(atPath: path) else {
    print("cannot read \(path)")
    exit(1)
}
let bytes = [UInt8](data)
let megabytes = Double(bytes.count) / 1_000_000

/// Runs `body` `runs` times and prints the best time as MB/s of `megabytes` (or items/s when nil).
func measure(_ label: String, megabytes: Double?, _ body: () throws -> Int) rethrows {
    let clock = ContinuousClock()
    var best = Duration.seconds(1_000)
    var count = 0
    for _ in 0..<runs {
        let start = clock.now
        count = try body()
        best = min(best, clock.now - start)
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    let padded = label.padding(toLength: 36, withPad: " ", startingAt: 0)
    let rate =
        megabytes.map { String(format: "%8.1f MB/s", $0 / seconds) }
        ?? String(format: "%8.0f items/s", Double(count) / seconds)
    print("\(padded) \(rate)  (\(count) items, best of \(runs): \(String(format: "%.1f", seconds * 1000)) ms)")
}

print("input: \(path), \(String(format: "%.2f", megabytes)) MB")
var documents: [YAMLDocument] = []
try measure("YAML.parseAll (libyaml + tree)", megabytes: megabytes) {
    documents = try YAML.parseAll(bytes, file: path)
    return documents.count
}
if arguments.contains("--parse-only") { exit(0) }
let values = documents.map(\.value)
let json = Array(values.map { JSON.emit($0) }.joined(separator: "\n").utf8)
try measure("JSON.parse (same documents as JSON)", megabytes: Double(json.count) / 1_000_000) {
    var count = 0
    var start = 0
    for (index, byte) in json.enumerated() where byte == UInt8(ascii: "\n") {
        _ = try JSON.parse(json[start..<index])
        start = index + 1
        count += 1
    }
    _ = try JSON.parse(json[start...])
    return count + 1
}
let yamlOutput = Double(YAML.emitAll(values).utf8.count) / 1_000_000
measure("YAML.emitAll (MB/s of output)", megabytes: yamlOutput) { YAML.emitAll(values).utf8.count }
measure("JSON.emit (MB/s of output)", megabytes: Double(json.count) / 1_000_000) {
    values.reduce(0) { $0 + JSON.emit($1).utf8.count }
}
struct Meta: Decodable {
    var name: String
    var namespace: String?
    var labels: [String: String]?
}
struct Object: Decodable {
    var apiVersion: String
    var kind: String
    var metadata: Meta
    var spec: JSONValue?
}
try measure("JSONValueDecoder (typed objects)", megabytes: nil) {
    let decoder = JSONValueDecoder()
    return try values.reduce(0) { count, value in
        _ = try decoder.decode(Object.self, from: value)
        return count + 1
    }
}
