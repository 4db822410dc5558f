// Benchmarks for the Kubernetes client and runtime (figures for the README, not tests).
//
//   hack/bench-kube            # release build, then: decode throughput, store memory, 10k-pod initial list
//
// 1. Watch decode throughput: a recorded stream of Pod MODIFIED events (~4.5 KB each) fed in 16 KiB chunks to
//    `WatchEventDecoder`, on one thread.
// 2. Store memory: resident-set growth per Pod held in a `Store` (decoded `BenchPod`s).
// 3. Initial list end to end: `Watcher` + `Store` against the test API server over HTTPS with 10,000 Pods
//    (pages of 500), from the first request to the store reporting ready.
import BulwarkTesting
import Foundation
import KubeClient
import KubeModel
import KubeRuntime

/// glibc's `malloc_trim` (not in the Glibc module map): returns freed heap pages so RSS reflects live data.
func releaseFreeMemory() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// CPU time consumed so far by the calling thread or by the whole process: rates per CPU-second stay meaningful on
/// a machine shared with other work, where wall-clock rates only show the share this process got.
func cpuSeconds(_ clock: clockid_t) -> Double {
    var time = timespec()
    clock_gettime(clock, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

func watchStream(events: Int) -> Data {
    var data = Data()
    for index in 0..<events {
        data.append(contentsOf: #"{"type":"MODIFIED","object":"#.utf8)
        data.append(contentsOf: podJSON(index: index).utf8)
        data.append(contentsOf: "}\n".utf8)
    }
    return data
}

/// Events per wall-clock second and per CPU second of the decoding thread.
func decodeThroughput(stream: Data, events: Int) throws -> (wall: Double, cpu: Double) {
    var decoder = WatchEventDecoder<BenchPod>()
    var count = 0
    let start = ContinuousClock.now
    let cpuStart = cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
    try stream.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 16_384, bytes.count)
            try decoder.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { _ in count += 1 }
            offset = end
        }
    }
    precondition(count == events, "decoded \(count) of \(events) events")
    let cpu = cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpuStart
    return (Double(events) / seconds(start.duration(to: .now)), Double(events) / cpu)
}

func storeMemoryPerPod(pods: Int) throws -> Double {
    let decoder = JSONDecoder()
    let store = Store<BenchPod>()
    releaseFreeMemory()
    let before = residentBytes()
    store.apply(.initStart)
    for index in 0..<pods {
        store.apply(.initObject(try decoder.decode(BenchPod.self, from: Data(podJSON(index: index).utf8))))
    }
    store.apply(.initDone)
    releaseFreeMemory()
    let after = residentBytes()
    precondition(store.count == pods)
    return Double(after - before) / Double(pods)
}

/// Wall seconds, client process CPU seconds, and resident growth per pod.
func initialList(server: TestAPIServer, pods: Int) async throws -> (Double, Double, Double) {
    let client = KubeClient(config: ClientConfig(
        server: server.url, certificateAuthority: server.certificateAuthority, credentials: .token(server.token),
        qps: 0))
    let store = Store<BenchPod>()
    releaseFreeMemory()
    let before = residentBytes()
    let start = ContinuousClock.now
    let cpuStart = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID)
    let watcher = Watcher(api: client.api(BenchPod.self, namespace: nil), config: WatcherConfig(pageSize: 500))
    for await change in Reflector(watcher: watcher, store: store) {
        if case .ready = change { break }
    }
    let elapsed = seconds(start.duration(to: .now))
    let cpu = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpuStart
    releaseFreeMemory()
    precondition(store.count == pods, "store holds \(store.count) pods")
    return (elapsed, cpu, Double(residentBytes() - before) / Double(pods))
}

let which = Set(CommandLine.arguments.dropFirst())
let runAll = which.isEmpty

if runAll || which.contains("decode") {
    let events = 50_000
    print("Building a watch stream of \(events) Pod events…")
    let stream = watchStream(events: events)
    print("  \(stream.count / events) bytes per event, \(stream.count >> 20) MiB in total")
    var wall: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<3 {
        let rate = try decodeThroughput(stream: stream, events: events)
        wall.append(rate.wall)
        cpu.append(rate.cpu)
    }
    print(String(format: "watch decode (one thread, median of 3): %.0f events/s per CPU-second (%.0f MB/s); "
                 + "%.0f events/s wall clock on this machine", median(cpu),
                 median(cpu) * Double(stream.count / events) / 1e6, median(wall)))
}

if runAll || which.contains("memory") {
    let perPod = try storeMemoryPerPod(pods: 50_000)
    print(String(format: "store memory: %.0f bytes per pod (50,000 pods, resident-set growth)", perPod))
}

if runAll || which.contains("list") {
    let pods = 10_000
    print("Starting the test API server and creating \(pods) pods…")
    let server = try await TestAPIServer.start()
    defer { server.close() }
    let template = try JSONSerialization.jsonObject(with: Data(podJSON(index: 0, namespace: "default").utf8))
    try await server.command("bulk", ["plural": "pods", "namespace": "default", "template": template, "count": pods])
    var times: [Double] = []
    var cpu: [Double] = []
    var memory: [Double] = []
    for _ in 0..<3 {
        let (elapsed, cpuTime, bytes) = try await initialList(server: server, pods: pods)
        times.append(elapsed)
        cpu.append(cpuTime)
        memory.append(bytes)
    }
    print(String(format: "initial list of %d pods over HTTPS (median of 3): %.3f s wall clock (best %.3f s), "
                 + "%.3f s client CPU; resident growth %.0f bytes per pod", pods, median(times), times.min()!,
                 median(cpu), median(memory)))
}
