import CMalloc

/// glibc allocator settings for a long-running agent whose footprint is charged against a DaemonSet memory limit.
public enum HeapTuning {
    /// Caps glibc's malloc arenas at two (its default is eight per core). The agent's work hops between a dozen
    /// threads, and every arena keeps its own freed-but-mapped pages; fewer arenas keep resident memory near what
    /// is live. glibc fixes its arena limit when it first creates a second arena, so this must run first thing in
    /// `main`, before any other thread allocates.
    public static func limitArenas() {
        _ = mallopt(M_ARENA_MAX, 2)
    }

    /// Hands freed heap pages back to the kernel. A compile and a program free many short-lived objects, which
    /// glibc otherwise keeps mapped.
    static func releaseFreedPages() {
        _ = malloc_trim(0)
    }
}
