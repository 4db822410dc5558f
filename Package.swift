// swift-tools-version: 6.1
import PackageDescription

// Module layout (see README "Project layout"): dependencies point one way.
// KubeModel <- KubeClient <- KubeRuntime; KubeModel <- PolicyCompiler; Datapath stands alone; Agent wires them.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Bulwark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bulwark", targets: ["bulwark"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Thin C layers: system libraries found through pkg-config, plus shims for what Swift cannot call.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CLibbpf", pkgConfig: "libbpf", providers: [.apt(["libbpf-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "CurlShims", dependencies: ["CCurl"]),
        .target(name: "BPFShims", dependencies: ["CLibbpf"]),
        .plugin(name: "BPFObjectPlugin", capability: .buildTool(), path: "Sources/BPFObjectPlugin"),

        // Swift modules, each with one job.
        .target(name: "YAML", dependencies: ["CYAML"], swiftSettings: strict),
        .target(name: "KubeModel", swiftSettings: strict),
        .target(name: "DataplaneModel", swiftSettings: strict),
        .target(
            name: "KubeClient",
            dependencies: ["KubeModel", "YAML", "CCurl", "CurlShims", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "KubeRuntime",
            dependencies: ["KubeClient", "KubeModel", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(name: "PolicyCompiler", dependencies: ["KubeModel", "DataplaneModel"], swiftSettings: strict),
        .target(name: "Manifests", dependencies: ["YAML", "KubeModel", "PolicyCompiler"], swiftSettings: strict),
        .target(
            name: "Datapath",
            dependencies: ["DataplaneModel", "CLibbpf", "BPFShims", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict,
            plugins: ["BPFObjectPlugin"]
        ),
        .target(
            name: "Agent",
            dependencies: [
                "DataplaneModel", "KubeModel", "PolicyCompiler", "Datapath", "YAML", "Manifests", "KubeClient",
                "KubeRuntime", "CMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "bulwark",
            dependencies: [
                "YAML", "Manifests", "Agent", "Datapath", "DataplaneModel", "PolicyCompiler", "KubeModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "bulwark-bench-datapath",
            dependencies: ["Datapath", "DataplaneModel", "BulwarkTesting"],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "bulwark-bench-kube",
            dependencies: ["KubeClient", "KubeRuntime", "KubeModel", "BulwarkTesting"],
            swiftSettings: strict
        ),
        .executableTarget(name: "bulwark-bench-yaml", dependencies: ["YAML"], swiftSettings: strict),
        .executableTarget(
            name: "bulwark-bench-compiler",
            dependencies: ["PolicyCompiler", "KubeModel", "DataplaneModel"],
            swiftSettings: strict
        ),

        // Test support and tests.
        .target(name: "BulwarkTesting", dependencies: ["KubeModel"], swiftSettings: strict),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "BulwarkTesting"], swiftSettings: strict),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "DataplaneModel", "Datapath", "KubeModel", "KubeClient", "PolicyCompiler", "YAML",
                "BulwarkTesting", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "DataplaneModelTests", dependencies: ["DataplaneModel"], swiftSettings: strict),
        .testTarget(name: "PolicyCompilerTests", dependencies: ["PolicyCompiler", "KubeModel", "YAML", "Manifests", "BulwarkTesting"], swiftSettings: strict),
        .testTarget(name: "DatapathTests", dependencies: ["Datapath", "BPFShims", "BulwarkTesting"], swiftSettings: strict),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "KubeModel", "BulwarkTesting"], swiftSettings: strict),
        .testTarget(name: "KubeRuntimeTests", dependencies: ["KubeRuntime", "KubeClient", "KubeModel", "BulwarkTesting"], swiftSettings: strict),
        .testTarget(name: "DeploymentTests", dependencies: ["YAML", "BulwarkTesting"], swiftSettings: strict),
    ]
)
