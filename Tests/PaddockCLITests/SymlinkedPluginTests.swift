import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// `paddock validate` (run by root, as operators do) on a folder whose
/// manifest or declared files are symbolic links: refused with a coded error
/// that shows none of the target's content and says nothing about whether
/// the target exists.
@Suite struct SymlinkedPluginTests {
    /// A root-only file, as `/etc/shadow` is.
    private func secretFile() throws -> String {
        let path = "/tmp/paddock-secret-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Data("name: leaked-TOPSECRET-value\nroot:$6$hash:19000\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        return path
    }

    private func report(_ directory: URL) throws -> (status: Int32?, errors: [[String: Any]], text: String) {
        let (status, report) = try PaddockCLI.validateJSON(directory)
        let errors = report["errors"] as? [[String: Any]] ?? []
        let text = try PaddockCLI.run("validate", directory.path).stdout + String(describing: report)
        return (status, errors, text)
    }

    @Test func aSymlinkedManifestIsRefusedWithoutItsContent() throws {
        let secret = try secretFile()
        defer { unlink(secret) }
        try Fixture.withPlugin(manifest: Fixture.weather) { directory in
            let manifest = directory.appendingPathComponent("manifest.yaml").path
            unlink(manifest)
            #expect(symlink(secret, manifest) == 0)
            let (status, errors, text) = try report(directory)
            #expect(status == 1)
            #expect(errors.compactMap { $0["code"] as? Int } == [102], "\(errors)")
            #expect(!text.contains("TOPSECRET") && !text.contains("$6$") && !text.contains(secret), "\(text)")
        }
    }

    @Test(arguments: ["main.py", "endpoints/weather.py"])
    func aSymlinkedDeclaredFileIsRefusedTheSameWhetherItsTargetExistsOrNot(file: String) throws {
        let secret = try secretFile()
        defer { unlink(secret) }
        var messages: [String] = []
        for target in [secret, "/nonexistent-\(getpid())"] {
            try Fixture.withPlugin(manifest: Fixture.weather) { directory in
                let path = directory.appendingPathComponent(file).path
                unlink(path)
                #expect(symlink(target, path) == 0)
                let (status, errors, text) = try report(directory)
                #expect(status == 1)
                #expect(errors.compactMap { $0["code"] as? Int } == [102], "\(errors)")
                #expect(!text.contains("TOPSECRET") && !text.contains(target), "\(text)")
                messages.append(errors.compactMap { $0["message"] as? String }.joined())
            }
        }
        #expect(messages.count == 2 && messages[0] == messages[1], "\(messages)")
    }

    @Test func aSymlinkedDirectoryOnTheWayIsRefusedAndAFIFOManifestDoesNotBlock() throws {
        try Fixture.withPlugin(manifest: Fixture.weather, files: ["main.py"]) { directory in
            #expect(symlink("/etc", directory.appendingPathComponent("endpoints").path) == 0)
            let (status, errors, _) = try report(directory)
            #expect(status == 1 && errors.compactMap { $0["code"] as? Int } == [102], "\(errors)")
        }
        try Fixture.withPlugin(manifest: "", files: []) { directory in
            let manifest = directory.appendingPathComponent("manifest.yaml").path
            unlink(manifest)
            #expect(mkfifo(manifest, 0o644) == 0)
            let (status, errors, _) = try report(directory)
            #expect(status == 1 && errors.compactMap { $0["code"] as? Int } == [102], "\(errors)")
        }
    }
}
