internal import CCurl
import Foundation
import Synchronization

/// Per-request state reached from libcurl's C callbacks through `Unmanaged` user data.
///
/// Written only by the thread running `curl_easy_perform`; `cancelled` is the one field other threads touch.
final class Transfer: @unchecked Sendable {
    /// Consumer of 2xx response bytes for streaming requests; returns false to abort the transfer.
    typealias Sink = @Sendable (UnsafeRawBufferPointer) -> Bool

    let cancelled = Atomic<Bool>(false)
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private(set) var body = Data()
    private let sink: Sink?

    init(sink: Sink? = nil) {
        self.sink = sink
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    fileprivate func receiveHeader(_ line: Substring) {
        if line.hasPrefix("HTTP/") {
            // A new status line (after 100-continue or a redirect) starts a new header block.
            headers = [:]
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if isCancelled { return false }
        if let sink, (200..<300).contains(status) {
            return sink(bytes)
        }
        body.append(contentsOf: bytes)
        return true
    }
}

let transferWrite: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    return transfer.receiveBody(bytes) ? size * count : 0
}

let transferHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let context, let data else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .newlines)
    transfer.receiveHeader(Substring(line))
    return size * count
}

typealias ProgressCallback = @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
    -> Int32

let transferProgress: ProgressCallback = { context, _, _, _, _ in
    guard let context else { return 0 }
    return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().isCancelled ? 1 : 0
}
