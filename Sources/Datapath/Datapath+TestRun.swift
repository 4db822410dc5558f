internal import BPFShims

/// The outcome of running a program on one crafted packet.
public struct TestRunResult: Sendable, Equatable {
    /// The program's TC return code: 0 (`TC_ACT_OK`) passes, 2 (`TC_ACT_SHOT`) drops.
    public var returnCode: Int32
    /// Mean time per run in nanoseconds, as the kernel measured it.
    public var nanoseconds: UInt32

    public var passed: Bool { returnCode == 0 }
    public var dropped: Bool { returnCode == 2 }
}

extension Datapath {
    /// Runs a program on an Ethernet frame with `BPF_PROG_TEST_RUN`, as if it arrived on `ifindex`.
    ///
    /// For tests and benchmarks: verdicts without traffic. The kernel requires `ifindex` to name an existing
    /// interface in the caller's network namespace; 1 (loopback) is always there, so tests program an endpoint
    /// with ifindex 1. Maps are the real ones: conntrack, counters and events change as for real packets.
    /// - Parameter repeat: runs the program this many times (for timing); the verdict is the last run's.
    public func testRun(_ program: DatapathProgram, packet: [UInt8], ifindex: UInt32 = 1, repeat: UInt32 = 1)
        throws -> TestRunResult
    {
        var returnCode: UInt32 = 0
        var duration: UInt32 = 0
        let result = packet.withUnsafeBytes { raw in
            bulwark_prog_test_run(
                fileDescriptor(program), raw.baseAddress, UInt32(raw.count), ifindex, `repeat`, &returnCode, &duration)
        }
        try check(result, "test run of \(program.rawValue)")
        return TestRunResult(returnCode: Int32(bitPattern: returnCode), nanoseconds: duration)
    }
}
