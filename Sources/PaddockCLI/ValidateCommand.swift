import ArgumentParser
import Foundation
import PaddockCore

/// `paddock validate DIR [--json]`: checks a plugin directory's manifest.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a plugin's manifest.yaml against every rule.",
        discussion: "Exits 0 when the manifest is valid and 1 when it is not."
    )

    @Argument(help: "The plugin directory (holding manifest.yaml: Paddock's format or a Dify plugin's).")
    var directory: String

    @Flag(help: "Print one JSON object: {\"ok\", \"format\", \"errors\", \"warnings\", \"manifest\"}.")
    var json = false

    func run() throws {
        let report = ManifestLoader().load(directory: directory)
        if json {
            print(try report.jsonText())
        } else {
            print(report.humanText(for: directory), terminator: "")
        }
        if !report.isValid { throw ExitCode.failure }
    }
}

extension ManifestReport {
    /// The report as one line of JSON.
    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The report for people: a verdict line, then one line per problem.
    func humanText(for directory: String) -> String {
        var text: String
        let kind = format == .dify ? "Dify plugin" : "Paddock plugin"
        if let manifest {
            text = "✓ \(directory): \(kind) \(manifest.name) \(manifest.version) (\(manifest.type.rawValue)) is valid\n"
        } else {
            let count = errors.count == 1 ? "1 problem" : "\(errors.count) problems"
            text = "✗ \(directory): \(kind), \(count)\n"
        }
        for error in errors { text += "  " + Self.line("error", error) }
        for warning in warnings { text += "  " + Self.line("warning", warning) }
        return text
    }

    private static func line(_ kind: String, _ problem: PaddockError) -> String {
        let field = problem.field.map { "\($0): " } ?? ""
        let place = problem.message.contains("line") ? "" : problem.details["line"].map { " (line \($0))" } ?? ""
        let code = kind == "error" ? " \(problem.code.rawValue)" : ""
        return "\(kind)\(code)  \(field)\(problem.message)\(place)\n"
    }
}
