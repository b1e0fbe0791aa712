import Foundation
import PaddockTestSupport

/// Runs the built `paddock` binary.
enum PaddockCLI {
    static let binary = ProcessRunner.product("paddock")

    static func run(_ arguments: String...) throws -> ProcessRunner.Result {
        try ProcessRunner.run(binary, arguments)
    }

    static func run(_ arguments: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(binary, arguments)
    }

    /// `paddock validate DIR --json`, decoded.
    static func validateJSON(_ directory: URL) throws -> (status: Int32?, report: [String: Any]) {
        let result = try ProcessRunner.run(binary, ["validate", directory.path, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return (result.status, object as? [String: Any] ?? [:])
    }

    /// The error codes of a JSON report.
    static func codes(_ report: [String: Any]) -> [Int] {
        (report["errors"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? Int }
    }
}
