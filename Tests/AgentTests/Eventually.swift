import Foundation

/// Polls `condition` until it holds or `within` has passed; returns whether it held. For "probes follow a change
/// within 1 s": each probe itself must use a timeout well below `within`.
func eventually(
    within limit: Duration, every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}

/// A unique pin root on the BPF file system for one test, so concurrent tests never share maps.
func uniquePinRoot() -> String {
    "/sys/fs/bpf/bulwark-test-\(getpid())-\(UUID().uuidString.prefix(8))"
}

/// A fresh temporary folder.
func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bulwark-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
