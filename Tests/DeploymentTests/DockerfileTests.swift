import Foundation
import Testing

/// The image's runtime stage must carry every shared library `bulwark` links, and nothing of the Swift toolchain.
@Suite("Dockerfile: static Swift build, runtime libraries")
struct DockerfileTests {
    /// Packages of debian:bookworm-slim itself that our libraries rely on (the C and C++ runtimes). Kept short on
    /// purpose: anything else must come from the runtime stage's apt-get line.
    static let basePackages: Set<String> = ["libc6", "libgcc-s1", "libstdc++6"]

    let dockerfile: Dockerfile
    let build: Dockerfile.Stage
    let runtime: Dockerfile.Stage

    init() throws {
        dockerfile = Dockerfile(text: try Repository.read("Dockerfile"))
        try #require(dockerfile.stages.count == 2, "a build stage and a runtime stage")
        build = dockerfile.stages[0]
        runtime = dockerfile.stages[1]
    }

    /// The `bulwark` executable built next to this test bundle (`swift build --build-tests` builds it).
    static var builtBinary: String? {
        let bundleDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent("bulwark").path, Repository.path(".build/debug/bulwark"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var canInspectLibraries: Bool {
        builtBinary != nil && Command.find("ldd") != nil && DebianPackages.isBookworm
    }

    /// Packages the runtime stage installs, with their dependencies, plus the base image's own.
    func runtimePackages() throws -> Set<String> {
        try DebianPackages.closure(of: runtime.aptInstalledPackages).union(Self.basePackages)
    }

    @Test("the build stage compiles a release binary with the Swift standard library linked statically")
    func buildIsStaticRelease() throws {
        #expect(build.image.hasPrefix("swift:6.3"), "Swift 6.3 toolchain image, found \(build.image)")
        #expect(build.image.hasSuffix("-bookworm"), "same Debian release as the runtime stage")
        let swiftBuild = try #require(build.arguments(of: "RUN").first { $0.contains("swift build") })
        for flag in ["-c release", "--static-swift-stdlib", "--product bulwark"] {
            #expect(swiftBuild.contains(flag), "swift build lacks \(flag)")
        }
        #expect(Set(build.aptInstalledPackages).isSuperset(of: ["libcurl4-openssl-dev", "libyaml-dev", "libbpf-dev"]))
    }

    @Test("the runtime stage is bookworm-slim with only the binary copied in, non-root by default")
    func runtimeIsSlim() throws {
        #expect(runtime.image == "debian:bookworm-slim")
        #expect(runtime.arguments(of: "COPY") == ["--from=build /out/bulwark /usr/local/bin/bulwark"])
        #expect(runtime.aptSkipsRecommends)
        #expect(!runtime.aptInstalledPackages.contains { $0.hasSuffix("-dev") || $0.hasPrefix("swift") })
        #expect(runtime.arguments(of: "USER").last == "65532:65532")
        #expect(runtime.arguments(of: "ENTRYPOINT") == [#"["/usr/local/bin/bulwark"]"#])
    }

    @Test("the build context leaves out build products but keeps everything the package manifest loads")
    func buildContextIsComplete() throws {
        let patterns = try Repository.read(".dockerignore").split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        func ignored(_ path: String) -> Bool {
            patterns.contains { pattern in
                pattern.hasSuffix("*") ? path.hasPrefix(String(pattern.dropLast())) : path == pattern
            }
        }
        for product in [".build", ".build-kind-overlay.abc123", ".git", ".swiftpm", "Package.resolved"] {
            #expect(ignored(product), "\(product) must not be sent to the Docker engine")
        }
        // SwiftPM checks every target's directory, test targets included, before building any product.
        for needed in ["Package.swift", "Sources", "Tests", "bpf"] {
            #expect(!ignored(needed), "\(needed) is needed by `swift build`")
        }
    }

    @Test(
        "every shared library the built bulwark links is installed by the runtime stage or the base image",
        .enabled(if: canInspectLibraries, "needs a built .build/debug/bulwark (swift build), ldd, Debian 12"))
    func linkedLibrariesAreInstalled() throws {
        let binary = try #require(Self.builtBinary)
        let ldd = try Command.run(try #require(Command.find("ldd")), [binary])
        try #require(ldd.status == 0, "ldd \(binary): \(ldd.stderr)")
        let allowed = try runtimePackages()
        var checked = 0
        for line in ldd.stdout.split(separator: "\n") {
            // "libyaml-0.so.2 => /lib/x86_64-linux-gnu/libyaml-0.so.2 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
            let words = line.split(separator: " ").map(String.init)
            guard let path = words.first(where: { $0.hasPrefix("/") }) else { continue }  // linux-vdso
            // Swift runtime libraries of the toolchain: linked statically by --static-swift-stdlib in the image.
            if path.contains("/lib/swift/") { continue }
            let package = try DebianPackages.owner(of: path)
            #expect(package != nil, "\(path) belongs to no Debian package")
            if let package {
                let inImage = allowed.contains(package)
                #expect(inImage, "\(path) comes from \(package), which the image does not install")
            }
            checked += 1
        }
        #expect(checked > 0, "ldd listed no system library at all")
    }

    @Test(
        "every C library the package links through pkg-config is installed by the runtime stage",
        .enabled(if: Command.find("pkg-config") != nil && DebianPackages.isBookworm, "needs pkg-config, Debian 12"))
    func declaredSystemLibrariesAreInstalled() throws {
        let manifest = try Repository.read("Package.swift")
        let modules = manifest.matches(of: /pkgConfig: "([^"]+)"/).map { String($0.output.1) }
        #expect(Set(modules) == ["libcurl", "yaml-0.1", "libbpf"])
        let pkgConfig = try #require(Command.find("pkg-config"))
        let allowed = try runtimePackages()
        for module in modules {
            let libdir = try Command.run(pkgConfig, ["--variable=libdir", module]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let libs = try Command.run(pkgConfig, ["--libs-only-l", module]).stdout
            for flag in libs.split(whereSeparator: \.isWhitespace) where flag.hasPrefix("-l") {
                // The development symlink (libcurl.so) points at the file the runtime package ships.
                let library = URL(fileURLWithPath: "\(libdir)/lib\(flag.dropFirst(2)).so").resolvingSymlinksInPath()
                    .path
                let package = try #require(try DebianPackages.owner(of: library), "\(library) of \(module)")
                let inImage = allowed.contains(package)
                #expect(inImage, "\(module) needs \(package) at run time, which the image does not install")
            }
        }
    }
}
