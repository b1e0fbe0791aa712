import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// `paddock pack` and `paddock install` with a real daemon: installs are
/// copies, hostile packages leave nothing behind, signatures are enforced.
@Suite(.serialized, .timeLimit(.minutes(15)))
struct PackageInstallTests {
    typealias RunningDaemon = DaemonTests.RunningDaemon
    /// One build folder for the Swift plugins the tests pack: their dependencies are built once.
    static let swiftScratch = "/tmp/paddock-pack-test-swift-build"

    private func scratch() throws -> String {
        try HostProcesses.privateDirectory()
    }

    /// Everything in the data folder, as relative paths (the database's own files aside).
    private func listing(_ data: String) -> [String] {
        (FileManager.default.subpaths(atPath: data) ?? []).filter { !$0.hasPrefix("paddock.db") && !$0.hasPrefix("logs") }.sorted()
    }

    private func pack(_ arguments: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(PaddockCLI.binary, ["pack"] + arguments, environment: ["PADDOCK_SOURCE": RunCommandTests.repository.path])
    }

    @Test(arguments: ["tool", "model", "extension"], ["python", "swift"])
    func anInitialisedPluginPacksInstallsAndAnswers(type: String, language: String) throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let name = "my-\(type)-\(language)"
        let created = try PaddockCLI.run("init", "--type", type, "--name", name, "--author", "a", "--dir", work + "/" + name, "--language", language)
        try #require(created.status == 0, "\(created.stderr)")
        var options = [work + "/" + name, "-o", work + "/p.pkg"]
        if language == "swift" { options += ["--configuration", "debug", "--scratch-path", Self.swiftScratch] }
        let packed = try pack(options)
        try #require(packed.status == 0, "\(packed.stderr)")
        #expect(packed.stdout.contains("sha256 "))
        // Packing again (a Swift plugin's build now done) gives the same bytes.
        let again = try pack(options.dropLast(options.count - 1) + ["-o", work + "/again.pkg"] + options.dropFirst(3))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: work + "/p.pkg")) == Data(contentsOf: URL(fileURLWithPath: work + "/again.pkg")))

        let daemon = try RunningDaemon()
        let installed = try daemon.paddock("install", work + "/p.pkg")
        try #require(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stdout.contains("\"directory\":\"\(daemon.data)/plugins/\(name)/0.1.0\""), "\(installed.stdout)")
        let activated = try daemon.paddock("activate", name)
        try #require(activated.status == 0, "\(activated.stderr)")
        let answer: ProcessRunner.Result =
            switch type {
            case "tool": try daemon.paddock("invoke", name, "hello", "--params", #"{"name": "Ada"}"#)
            case "model": try daemon.paddock("invoke", name, "--model", "echo", "--message", "Ada says hi")
            default: try daemon.paddock("invoke", name, "--endpoint", "/hello", "--query", "name=Ada")
            }
        #expect(answer.status == 0, "\(answer.stderr)")
        #expect(answer.stdout.contains("Ada"), "\(answer.stdout)")
    }

    @Test func packingTwiceGivesByteIdenticalPackages() throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        #expect(try pack([RunCommandTests.textTools, "-o", work + "/a.pkg"]).status == 0)
        #expect(try pack([RunCommandTests.textTools, "-o", work + "/b.pkg"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: work + "/a.pkg")) == Data(contentsOf: URL(fileURLWithPath: work + "/b.pkg")))
        // An invalid manifest is not packed, and its problem is printed.
        try FileManager.default.copyItem(atPath: RunCommandTests.textTools, toPath: work + "/broken")
        try Data("name: Not Valid\n".utf8).write(to: URL(fileURLWithPath: work + "/broken/manifest.yaml"))
        let refused = try pack([work + "/broken", "-o", work + "/c.pkg"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("✗"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work + "/c.pkg"))
    }

    @Test func hostilePackagesAreRefusedAndLeaveNoFileBehind() throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        var files: [String: String] = [:]
        for file in ["manifest.yaml", "main.py"] {
            files[file] = try String(contentsOfFile: RunCommandTests.textTools + "/" + file, encoding: .utf8)
        }
        let daemon = try RunningDaemon()
        let before = listing(daemon.data)
        for kind in HostilePackage.allCases {
            try kind.write(to: work + "/\(kind).pkg", files: files)
            let result = try daemon.paddock("install", work + "/\(kind).pkg")
            #expect(result.status == 1, "\(kind): \(result.stdout)")
            #expect(result.stderr.contains("error 102: package refused"), "\(kind): \(result.stderr)")
            #expect(listing(daemon.data) == before, "\(kind)")
        }
        // A folder with a hard link to a file outside it (the CLI packs it, as root).
        try FileManager.default.copyItem(atPath: RunCommandTests.textTools, toPath: work + "/linked")
        try Data("secret".utf8).write(to: URL(fileURLWithPath: work + "/secret"))
        #expect(link(work + "/secret", work + "/linked/copy") == 0)
        let linked = try daemon.paddock("install", work + "/linked")
        #expect(linked.status == 1 && linked.stderr.contains("hard links"), "\(linked.stderr)")
        // A package whose manifest does not validate.
        try HostilePackage.tamper(try packed(RunCommandTests.textTools, in: work), entry: "manifest.yaml", text: "name: x\n")
        let invalid = try daemon.paddock("install", work + "/packed.pkg")
        #expect(invalid.status == 1, "\(invalid.stdout)")
        #expect(listing(daemon.data) == before)
        #expect(try daemon.json("list", "--json") == .array([]))
    }

    /// `paddock pack DIR` into `work/packed.pkg`.
    private func packed(_ directory: String, in work: String, sign key: String? = nil) throws -> String {
        let result = try pack([directory, "-o", work + "/packed.pkg"] + (key.map { ["--sign", $0] } ?? []))
        try #require(result.status == 0, "\(result.stderr)")
        return work + "/packed.pkg"
    }

    @Test func withSignaturesRequiredOnlyASignedUnchangedPackageInstalls() throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let generated = try PaddockCLI.run("keys", "gen-signing", "--out", work + "/keys")
        try #require(generated.status == 0, "\(generated.stderr)")
        // The public key as an operator pastes it: with CRLF line ends.
        let publicKey = try String(contentsOfFile: work + "/keys/signing.pub", encoding: .utf8)
        try Data((publicKey.trimmingCharacters(in: .newlines) + "\r\n").utf8).write(to: URL(fileURLWithPath: work + "/keys/signing.pub"))
        try Data("packages:\n  signature: required\n  trusted_keys: [\(work)/keys/signing.pub]\n".utf8)
            .write(to: URL(fileURLWithPath: work + "/paddockd.yaml"))
        let daemon = try RunningDaemon(["--config", work + "/paddockd.yaml"])
        let before = listing(daemon.data)

        let unsigned = try daemon.paddock("install", try packed(RunCommandTests.textTools, in: work))
        #expect(unsigned.status == 1 && unsigned.stderr.contains("error 104") && unsigned.stderr.contains("not signed"), "\(unsigned.stderr)")
        let path = try packed(RunCommandTests.textTools, in: work, sign: work + "/keys/signing.key")
        try HostilePackage.tamper(path, entry: "main.py", text: "import os\n")
        let changed = try daemon.paddock("install", path)
        #expect(changed.status == 1 && changed.stderr.contains("changed after it was packed"), "\(changed.stderr)")
        #expect(listing(daemon.data) == before)

        let signed = try daemon.paddock("install", try packed(RunCommandTests.textTools, in: work, sign: work + "/keys/signing.key"))
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stdout.contains("\"trusted_signer\":true"), "\(signed.stdout)")
    }

    @Test func editingTheSourceAfterInstallChangesNothingEvenAfterARestart() throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let source = work + "/text-tools"
        try FileManager.default.copyItem(atPath: RunCommandTests.textTools, toPath: source)
        let daemon = try RunningDaemon()
        #expect(try daemon.paddock("install", source).status == 0)
        #expect(try daemon.paddock("activate", "text-tools").status == 0)
        let digest = try daemon.json("versions", "text-tools")["versions"]?.arrayValue?.first?["digest"]
        let manifest = try String(contentsOfFile: source + "/manifest.yaml", encoding: .utf8)
        try Data(manifest.replacingOccurrences(of: "network: false", with: "network: true").utf8)
            .write(to: URL(fileURLWithPath: source + "/manifest.yaml"))
        try Data("raise SystemExit(3)\n".utf8).write(to: URL(fileURLWithPath: source + "/main.py"))
        daemon.process.stop()
        try daemon.restart()
        let copy = try String(contentsOfFile: daemon.data + "/plugins/text-tools/1.0.0/manifest.yaml", encoding: .utf8)
        #expect(copy == manifest)
        #expect(try daemon.json("versions", "text-tools")["versions"]?.arrayValue?.first?["digest"] == digest)
        let result = try daemon.paddock("invoke", "text-tools", "word_count", "--params", #"{"text": "still here"}"#)
        #expect(result.stdout.contains("\"words\":2"), "\(result.stderr)")
    }
}
