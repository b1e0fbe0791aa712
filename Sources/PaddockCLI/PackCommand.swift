import ArgumentParser
import Foundation
import PaddockCore
import PaddockPackage

/// `paddock pack DIR [-o FILE] [--sign KEY]`: a plugin's package, for `paddock install`.
struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Validate a plugin and write its package (a zip with a content digest, signed with --sign).",
        discussion: """
            Files named in .paddockignore (gitignore syntax) are left out, and always __pycache__, .git, .build, \
            .venv and .paddock. A Swift plugin is built first and its executable packed as bin/<name>. \
            Packing the same files twice gives the same bytes.
            """)

    @Argument(help: "The plugin directory (holding manifest.yaml).") var directory: String
    @Option(name: .shortAndLong, help: "The package file (default: <name>-<version>.pkg here).") var output: String?
    @Option(help: "Sign with this key (from `paddock keys gen-signing`).") var sign: String?
    @Option(help: "A Swift plugin's build configuration: release or debug.") var configuration = "release"
    @Option(help: "A Swift plugin's build folder, to share one between plugins.") var scratchPath: String?

    func run() throws {
        do {
            let packer = PluginPacker(signingKey: sign, configuration: configuration, scratchPath: scratchPath)
            let (package, manifest) = try packer.pack(directory)
            let path = output ?? "\(manifest.name)-\(manifest.version).pkg"
            guard FileManager.default.createFile(atPath: path, contents: Data(package.bytes)) else {
                throw PaddockError(.fileLimitExceeded, "cannot write \(path)")
            }
            let signed = package.signature.map { " signed by \($0.signer)" } ?? " unsigned"
            print("\(path): \(manifest.name) \(manifest.version), \(ByteSize(bytes: package.bytes.count)), sha256 \(package.digest),\(signed)")
        } catch let error as PaddockError {
            throw DaemonOptions.failure(error)
        }
    }
}
