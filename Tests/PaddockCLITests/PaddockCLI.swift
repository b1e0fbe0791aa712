import Foundation
import Glibc
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

    /// The warning `paddock` prints for a secret setting given in argv.
    static func secretWarning(_ name: String) -> String {
        "warning: the secret setting '\(name)' was given on the command line, where other users can read it; "
            + "use \(name)=@FILE, \(name)=- or \(name)=?\n"
    }

    /// A temporary file only its owner can read, holding `contents`.
    static func privateFile(_ contents: String) throws -> String {
        let path = "/tmp/paddock-cli-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        return path
    }

    /// The error codes of a JSON report.
    static func codes(_ report: [String: Any]) -> [Int] {
        (report["errors"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? Int }
    }
}
