import Foundation
import Testing

@testable import KubeClient

@Suite struct LineFramerTests {
    private static let events = [
        #"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}"#,
        #"{"type":"MODIFIED","object":{"metadata":{"name":"b","resourceVersion":"2"},"data":{"k":"ü\n"}}}"#,
        #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}}"#,
    ]

    private func frame(_ chunks: [[UInt8]], framer: inout LineFramer) throws -> [String] {
        var lines: [String] = []
        for chunk in chunks {
            try chunk.withUnsafeBytes { bytes in
                try framer.push(bytes) { lines.append(String(decoding: $0, as: UTF8.self)) }
            }
        }
        return lines
    }

    @Test func anEventSplitAtEveryByteBoundaryIsReassembled() throws {
        let stream = Array((Self.events.joined(separator: "\n") + "\n").utf8)
        for cut in 0...stream.count {
            var framer = LineFramer()
            let lines = try frame([Array(stream[..<cut]), Array(stream[cut...])], framer: &framer)
            #expect(lines == Self.events, "cut at byte \(cut)")
            #expect(framer.bufferedCount == 0)
        }
    }

    @Test func oneByteChunksYieldTheSameEvents() throws {
        let stream = Array((Self.events.joined(separator: "\n") + "\n").utf8)
        var framer = LineFramer()
        #expect(try frame(stream.map { [$0] }, framer: &framer) == Self.events)
    }

    @Test func manyEventsInOneChunkAndCRLFAndBlankLinesAreHandled() throws {
        let stream = Array((Self.events.joined(separator: "\r\n") + "\r\n\n").utf8)
        var framer = LineFramer()
        #expect(try frame([stream], framer: &framer) == Self.events)
    }

    @Test func anIncompleteTailWaitsForItsNewline() throws {
        var framer = LineFramer()
        let lines = try frame([Array(#"{"type":"ADD"#.utf8)], framer: &framer)
        #expect(lines.isEmpty)
        #expect(framer.bufferedCount == 12)
    }

    @Test func aFiveMegabyteEventAcrossSmallChunksIsOneLine() throws {
        let big = "{\"pad\":\"" + String(repeating: "x", count: 5 << 20) + "\"}"
        let bytes = Array((big + "\n").utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 16_384)
            .map { Array(bytes[$0..<min($0 + 16_384, bytes.count)]) }
        var framer = LineFramer()
        let lines = try frame(chunks, framer: &framer)
        #expect(lines.count == 1)
        #expect(lines.first?.utf8.count == big.utf8.count)
    }

    @Test func aLineBeyondTheLimitIsRejected() throws {
        var framer = LineFramer(maxLineLength: 10)
        #expect(throws: LineFramer.LineTooLong.self) {
            _ = try frame([Array("0123456789abc".utf8)], framer: &framer)
        }
    }
}
