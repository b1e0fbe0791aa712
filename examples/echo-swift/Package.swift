// swift-tools-version: 6.1
// Echo (Swift): builds on its own against a Paddock checkout (PADDOCK_SOURCE,
// default ../..). Inside Paddock's own package it is the `echo-swift` target.
import Foundation
import PackageDescription

let paddock = Context.environment["PADDOCK_SOURCE"] ?? "../.."

let package = Package(
    name: "echo-swift",
    dependencies: [.package(path: paddock)],
    targets: [
        .executableTarget(
            name: "echo-swift",
            dependencies: [.product(name: "PaddockPluginKit", package: URL(fileURLWithPath: paddock).standardizedFileURL.lastPathComponent)],
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        )
    ]
)
