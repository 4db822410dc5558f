import Foundation
import Testing

@testable import Agent

@Test func aFileWrittenIntoTheWatchedFolderIsNoticedPromptly() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bulwark-watch-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }

    let watcher = DirectoryWatcher(path: folder.path, settle: .milliseconds(20))
    let changes = watcher.changes()
    let noticed = Task {
        var iterator = changes.makeAsyncIterator()
        return await iterator.next() != nil
    }
    // Give the watch thread a moment to install its watch, then change a file.
    try await Task.sleep(for: .milliseconds(100))
    let start = ContinuousClock.now
    try Data("kind: Namespace\n".utf8).write(to: folder.appendingPathComponent("ns.yaml"))
    #expect(await noticed.value)
    #expect(ContinuousClock.now - start < .seconds(1))
}
