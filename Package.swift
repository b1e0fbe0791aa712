// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Paddock",
    products: [
        .executable(name: "paddock", targets: ["paddock"]),
        .executable(name: "paddock-sandbox", targets: ["paddock-sandbox"]),
        .executable(name: "paddockd", targets: ["paddockd"]),
        .executable(name: "paddock-gateway", targets: ["paddock-gateway"]),
        .library(name: "PaddockPluginKit", targets: ["PaddockPluginKit"]),
        .library(name: "PaddockCore", targets: ["PaddockCore"]),
        .library(name: "PaddockControl", targets: ["PaddockControl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // System libraries from Debian, linked through pkg-config. C stays here.
        .systemLibrary(
            name: "CSeccomp",
            pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]
        ),
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        .target(
            name: "PaddockCore",
            dependencies: ["CYAML", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "PaddockRPC",
            dependencies: [
                "PaddockCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The Swift plugin SDK: Core and RPC only.
        .target(
            name: "PaddockPluginKit",
            dependencies: [
                "PaddockCore", "PaddockRPC",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Plugin packages: a zip of the plugin's files with a content digest and an optional Ed25519 signature.
        .target(
            name: "PaddockPackage",
            dependencies: [
                "PaddockCore", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // SQLite through one owner thread per file (a NIOThreadPool of one).
        .target(
            name: "PaddockStorage",
            dependencies: [
                "PaddockCore", "CSQLite", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Static inline wrappers for what Swift cannot call: prctl, raw syscalls, Landlock.
        .target(name: "CLinux"),
        .target(
            name: "PaddockSandbox",
            dependencies: ["PaddockCore", "CLinux", "CSeccomp", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The launcher links no Foundation and is static, so it starts in a fraction of a millisecond.
        .executableTarget(
            name: "paddock-sandbox",
            dependencies: ["PaddockSandbox"],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // The typed control protocol of paddockd, and its client: shared by
        // paddockd, the CLI and the gateway, which links nothing else of the supervisor.
        .target(
            name: "PaddockControl",
            dependencies: [
                "PaddockCore", "PaddockRPC",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "PaddockSupervisor",
            dependencies: [
                "PaddockCore", "PaddockRPC", "PaddockControl", "PaddockSandbox", "PaddockStorage", "PaddockPackage", "CLinux",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The log lines of paddockd and the gateway (a swift-log handler) and the --log-level option.
        .target(
            name: "PaddockLogging",
            dependencies: ["PaddockCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "PaddockCLI",
            dependencies: [
                "PaddockCore",
                "PaddockControl",
                "PaddockPackage",
                "PaddockSandbox",
                "PaddockSupervisor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "paddockd",
            dependencies: [
                "PaddockCore", "PaddockControl", "PaddockLogging", "PaddockPackage", "PaddockSandbox", "PaddockSupervisor",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // HTTP over the control protocol: never the supervisor, SQLite or libseccomp.
        .target(
            name: "PaddockGateway",
            dependencies: [
                "PaddockCore", "PaddockControl", "PaddockRPC",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "paddock-gateway",
            dependencies: [
                "PaddockGateway", "PaddockLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The native example plugin (examples/echo-swift), built with Paddock so
        // that tests and `make run` have it; static so the sandbox need not expose the toolchain.
        .executableTarget(
            name: "echo-swift",
            dependencies: ["PaddockPluginKit"],
            path: "examples/echo-swift/Sources/echo-swift",
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        // Spawn-to-exit timings for `make bench`.
        .executableTarget(
            name: "paddock-bench",
            dependencies: ["PaddockCore", "PaddockSupervisor", "PaddockStorage", .product(name: "NIOCore", package: "swift-nio")]),
        // The bare Hummingbird echo that `make bench` measures the gateway against.
        .executableTarget(name: "bench-echo-server", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        .executableTarget(name: "paddock", dependencies: ["PaddockCLI"]),
        // The fuzz targets (`make fuzz`): the parsers and decoders of untrusted input, and a libFuzzer harness over them.
        .target(
            name: "PaddockFuzz",
            dependencies: [
                "PaddockCore", "PaddockRPC", "PaddockSandbox",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "paddock-fuzz", dependencies: ["PaddockFuzz"]),

        // Fixtures, fuzzing and process helpers shared by the test targets.
        .target(name: "PaddockTestSupport", dependencies: ["PaddockCore"], path: "Tests/PaddockTestSupport"),
        .testTarget(name: "PaddockCoreTests", dependencies: ["PaddockCore", "PaddockTestSupport"]),
        .testTarget(name: "PackageFormatTests", dependencies: ["PaddockPackage", "PaddockCore", "PaddockTestSupport"]),
        .testTarget(name: "PaddockControlTests", dependencies: ["PaddockControl", "PaddockCore"]),
        .testTarget(
            name: "PaddockRPCTests",
            dependencies: [
                "PaddockRPC", .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PaddockSupervisorTests",
            dependencies: [
                "PaddockSupervisor", "PaddockStorage", "PaddockLogging", "PaddockTestSupport", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PaddockPluginKitTests",
            dependencies: ["PaddockPluginKit", "PaddockRPC", .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(
            name: "PaddockStorageTests",
            dependencies: ["PaddockStorage", "PaddockTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The real binaries, and the routes in-process (HummingbirdTesting) before a real or a stand-in paddockd.
        .testTarget(
            name: "PaddockGatewayTests",
            dependencies: [
                "PaddockCore", "PaddockTestSupport", "PaddockGateway", "PaddockRPC",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CSeccomp", "CYAML", "CSQLite"]),
        .testTarget(name: "PaddockFuzzTests", dependencies: ["PaddockFuzz"]),
        .testTarget(name: "PaddockCLITests", dependencies: ["PaddockCore", "PaddockSandbox", "PaddockCLI", "PaddockTestSupport", "paddock"]),
        .testTarget(
            name: "PaddockSandboxTests",
            // Runs the built paddock-sandbox (not linked: it is a static executable).
            dependencies: ["PaddockSandbox", "PaddockTestSupport"],
            exclude: ["Programs"]
        ),
    ]
)

// The same settings on every Swift target.
for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
