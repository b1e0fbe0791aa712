import ArgumentParser
import Foundation
import PaddockCore
import PaddockPackage

/// A plugin folder made into a package: validated, its files read (as
/// `.paddockignore` says), a Swift plugin built and its executable added as
/// `bin/<name>`, then zipped and, with a key, signed. `paddock pack` writes
/// it; `paddock install DIR` sends it.
struct PluginPacker {
    var signingKey: String?
    var configuration = "release"
    var scratchPath: String?

    /// - Throws: exit status 1 after printing the manifest's problems; a ``PaddockError`` otherwise.
    func pack(_ directory: String) throws -> (package: PackageWriter.Package, manifest: Manifest) {
        let report = ManifestLoader().load(directory: directory)
        guard let manifest = report.manifest else {
            FileHandle.standardError.write(Data(report.humanText(for: directory).utf8))
            throw ExitCode.failure
        }
        let key = try signingKey.map { path throws(PaddockError) in try SigningKey.privateKey(at: path) }
        // Built before the files are read: a first build writes Package.resolved, and the next pack must read the same files.
        let executable = manifest.runner.language == .swift ? try build(directory, product: manifest.name) : nil
        var reported = 0
        var entries = try PackageSource.entries(in: directory) { total in
            // A line per 16 MiB read, for packages large enough to wait for.
            guard total >> 24 > reported else { return }
            reported = total >> 24
            FileHandle.standardError.write(Data("packing: \(ByteSize(bytes: total)) read\n".utf8))
        }
        if let executable {
            entries.removeAll { $0.path == executable.path }
            entries.append(executable)
        }
        return (try PackageWriter.write(entries, signingKey: key), manifest)
    }

    /// Builds a Swift plugin's product with `swift build`; its executable as `bin/<name>`.
    private func build(_ directory: String, product: String) throws -> PackageEntry {
        var arguments = ["swift", "build", "-c", configuration, "--product", product, "--package-path", directory]
        if let scratchPath { arguments += ["--scratch-path", scratchPath] }
        FileHandle.standardError.write(Data("packing: building \(product) (\(configuration))\n".utf8))
        try run(arguments, output: FileHandle.standardError)
        let binPath = Pipe()
        try run(arguments + ["--show-bin-path"], output: binPath.fileHandleForWriting)
        let folder = String(decoding: binPath.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let executable = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + product))
        return PackageEntry(path: "bin/" + product, kind: .executable, contents: Array(executable))
    }

    private func run(_ arguments: [String], output: FileHandle) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PaddockError(.dependencyUnavailable, "`\(arguments.joined(separator: " "))` failed (exit \(process.terminationStatus))")
        }
    }
}
