public import ArgumentParser
import Foundation
public import PaddockCore

/// `paddock init`: writes a new plugin directory that passes `paddock validate`.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new plugin: manifest, handler skeleton and README."
    )

    @Option(help: "The plugin type: tool, model or extension.")
    var type: PluginType

    @Option(help: "The plugin's id: 1-64 characters of a-z, 0-9 and '-'.")
    var name: String

    @Option(help: "The plugin's author.")
    var author: String

    @Option(help: "Where to create the plugin (default: ./NAME). Must not exist or be empty.")
    var dir: String?

    @Option(help: "The language of the handler: python or swift.")
    var language: Runner.Language = .python

    func run() throws {
        let template = PluginTemplate(type: type, name: name, author: author, language: language)
        // Check the manifest before touching the disk, so a bad name writes nothing.
        let preview = ManifestLoader().load(yaml: Array(template.manifest.utf8))
        guard preview.isValid else {
            for error in preview.errors { printError(error) }
            throw ExitCode.failure
        }
        let directory = URL(fileURLWithPath: dir ?? name)
        do {
            try write(template.files, into: directory)
        } catch let error as PaddockError {
            printError(error)
            throw ExitCode.failure
        }
        let report = ManifestLoader().load(directory: directory.path)
        guard report.isValid else {
            print(report.humanText(for: directory.path), terminator: "")
            throw ExitCode.failure
        }
        print("Created \(type.rawValue) plugin '\(name)' in \(directory.path)")
        print("Next: paddock validate \(directory.path)")
    }

    private func write(_ files: [(path: String, contents: String)], into directory: URL) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: directory.path) {
            let existing = (try? manager.contentsOfDirectory(atPath: directory.path)) ?? ["?"]
            guard existing.isEmpty else {
                throw PaddockError(.wrongFormat, "'\(directory.path)' already exists and is not empty")
            }
        }
        for (path, contents) in files {
            let file = directory.appendingPathComponent(path)
            do {
                try manager.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(contents.utf8).write(to: file)
            } catch {
                throw PaddockError(.fileLimitExceeded, "cannot write \(file.path): \(error.localizedDescription)")
            }
        }
    }

    private func printError(_ error: PaddockError) {
        FileHandle.standardError.write(Data("paddock init: \(error)\n".utf8))
    }
}

extension PluginType: ExpressibleByArgument {}
extension Runner.Language: ExpressibleByArgument {}
