import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Notifies when any file in a directory tree is created, changed, moved or deleted.
///
/// Why inotify: standalone mode must pick up an edited policy within a second without re-reading every file every
/// few hundred milliseconds. Events are coalesced: each element of `changes()` means "something changed since the
/// last element", which is all the caller needs because it re-reads the folder anyway. The watch is rebuilt after
/// each change so new subdirectories are covered.
public struct DirectoryWatcher: Sendable {
    public let path: String
    /// Debounce window: bursts of writes (an editor's save, `cp` of many files) become one notification.
    public let settle: Duration

    public init(path: String, settle: Duration = .milliseconds(100)) {
        self.path = path
        self.settle = settle
    }

    /// An endless stream of change notifications; ends when the consuming task is cancelled.
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let path = path
        let settle = settle
        let thread = Thread {
            Self.watchLoop(path: path, settle: settle, continuation: continuation)
        }
        thread.name = "bulwark-dirwatch"
        thread.start()
        return stream
    }

    private static func watchLoop(path: String, settle: Duration, continuation: AsyncStream<Void>.Continuation) {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else {
            continuation.finish()
            return
        }
        defer { close(fd) }
        let stopped = StopFlag()
        continuation.onTermination = { _ in stopped.set() }
        let mask =
            UInt32(IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE)
            | UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while !stopped.isSet {
            let watches = addWatches(fd: fd, root: path, mask: mask)
            defer { watches.forEach { inotify_rm_watch(fd, $0) } }
            // Wait for the first event, waking twice a second to notice cancellation.
            guard waitReadable(fd, timeoutMilliseconds: 500) else { continue }
            drain(fd, &buffer)
            // Coalesce the rest of the burst.
            let (seconds, attoseconds) = settle.components
            let settleMilliseconds = max(Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000), 1)
            while waitReadable(fd, timeoutMilliseconds: settleMilliseconds) { drain(fd, &buffer) }
            continuation.yield()
        }
    }

    private static func addWatches(fd: Int32, root: String, mask: UInt32) -> [Int32] {
        var directories = [root]
        if let walker = FileManager.default.enumerator(atPath: root) {
            for case let relative as String in walker {
                var isDirectory: ObjCBool = false
                let full = root + "/" + relative
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                    directories.append(full)
                }
            }
        }
        return directories.map { inotify_add_watch(fd, $0, mask) }.filter { $0 >= 0 }
    }

    private static func waitReadable(_ fd: Int32, timeoutMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, timeoutMilliseconds) > 0
    }

    private static func drain(_ fd: Int32, _ buffer: inout [UInt8]) {
        _ = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    }
}

/// A thread-safe one-way flag set when the stream's consumer goes away.
private final class StopFlag: Sendable {
    private let value = Mutex(false)

    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
