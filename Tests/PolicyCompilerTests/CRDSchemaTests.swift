import Foundation
import Testing

/// The CRD's openAPIV3Schema, checked with Python's `jsonschema` (a real JSON-Schema validator) by
/// `crds/check_examples.py`: the schema is structural, every BulwarkPolicy under `examples/` validates, and each
/// known-bad object is rejected with the expected message.
@Suite struct CRDSchemaTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func examplesValidateAgainstTheCRDSchemaAndBadObjectsAreRejected() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.repositoryRoot.appendingPathComponent("crds/check_examples.py").path,
                             Self.repositoryRoot.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        let lines = text.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("ok example") }.count >= 5, "\(text)")
        #expect(lines.filter { $0.hasPrefix("ok rejects") }.count >= 20, "\(text)")
    }
}
