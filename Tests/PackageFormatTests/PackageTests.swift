import Foundation
import PaddockCore
import PaddockPackage
import PaddockTestSupport
import Testing

/// Packing is deterministic and leaves out what it should; unpacking
/// refuses every hostile archive before it can write outside its folder.
@Suite struct PackageTests {
    static let files = ["manifest.yaml": "name: x\n", "main.py": "print('hi')\n", "lib/util.py": "X = 1\n"]

    private func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paddock-pkg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func folder(_ files: [String: String]) throws -> String {
        let root = try scratch()
        for (path, text) in files {
            let url = URL(fileURLWithPath: root + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return root
    }

    /// Everything below `path`, relative.
    private func contents(_ path: String) -> [String] {
        (FileManager.default.subpaths(atPath: path) ?? []).sorted()
    }

    @Test func packingTwiceGivesTheSameBytes() throws {
        let root = try folder(Self.files)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try PackageWriter.write(PackageSource.entries(in: root))
        // A later modification time and another order of creation change nothing.
        try Data("print('hi')\n".utf8).write(to: URL(fileURLWithPath: root + "/main.py"))
        let second = try PackageWriter.write(PackageSource.entries(in: root))
        #expect(first.bytes == second.bytes)
        #expect(first.digest.count == 64)
    }

    @Test func ignoredFilesAreLeftOut() throws {
        let root = try folder(
            Self.files.merging([
                ".paddockignore": "# notes\n*.log\n/build-output/\n!keep.log\ndocs/**/draft.md\n",
                "debug.log": "x", "keep.log": "kept", "build-output/a": "x", "sub/build-output/b": "kept",
                "docs/a/b/draft.md": "x", "docs/final.md": "kept", "__pycache__/m.pyc": "x", ".git/HEAD": "x",
                ".build/debug/x": "x", "src/__pycache__/m.pyc": "x", ".venv/bin/python": "x", ".paddock/paddock.db": "x",
            ]) { $1 })
        defer { try? FileManager.default.removeItem(atPath: root) }
        let paths = try PackageSource.entries(in: root).map(\.path).sorted()
        #expect(paths == [".paddockignore", "docs/final.md", "keep.log", "lib/util.py", "main.py", "manifest.yaml", "sub/build-output/b"])
    }

    @Test func aPackageUnpacksToItsFilesWithTheirModes() throws {
        let root = try folder(Self.files)
        defer { try? FileManager.default.removeItem(atPath: root) }
        chmod(root + "/main.py", 0o700)
        symlink("lib/util.py", root + "/util.py")
        let package = try PackageWriter.write(PackageSource.entries(in: root))
        let target = try scratch()
        defer { try? FileManager.default.removeItem(atPath: target) }
        let unpacked = try PackageUnpacker(policy: PackagePolicy()).unpack(package.bytes, into: target)
        #expect(unpacked.digest == package.digest)
        #expect(unpacked.signer == nil)
        #expect(contents(target) == ["lib", "lib/util.py", "main.py", "manifest.yaml", "util.py"])
        let mode = try FileManager.default.attributesOfItem(atPath: target + "/main.py")[.posixPermissions] as? Int
        #expect(mode == 0o755)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/util.py") == "lib/util.py")
    }

    @Test(arguments: HostilePackage.allCases)
    func hostileArchivesAreRefusedAndWriteNothingOutside(_ kind: HostilePackage) throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        try kind.write(to: work + "/p.pkg", files: Self.files)
        try FileManager.default.createDirectory(atPath: work + "/a/b/target", withIntermediateDirectories: true)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: work + "/p.pkg")))
        var policy = PackagePolicy()
        policy.maximumUnpackedBytes = 64 << 20
        let error = #expect(throws: PaddockError.self) {
            try PackageUnpacker(policy: policy).unpack(bytes, into: work + "/a/b/target")
        }
        #expect(error?.code == .wrongFormat, "\(String(describing: error))")
        #expect(error?.details["reason"].flatMap(PackageProblem.init(rawValue:)) != nil, "\(String(describing: error))")
        // Whatever was written is inside the target folder.
        #expect(contents(work).allSatisfy { $0 == "p.pkg" || $0.hasPrefix("a") }, "\(contents(work))")
        #expect(!FileManager.default.fileExists(atPath: "/etc/x"))
    }

    @Test func aFolderWithAHardLinkOrADeviceIsNotPacked() throws {
        let outside = try folder(["secret": "root only"])
        let root = try folder(Self.files)
        defer { for path in [outside, root] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(link(outside + "/secret", root + "/copy") == 0)
        #expect(throws: PaddockError.self) { try PackageSource.entries(in: root) }
        unlink(root + "/copy")
        #expect(mkfifo(root + "/pipe", 0o644) == 0)
        #expect(throws: PaddockError.self) { try PackageSource.entries(in: root) }
        unlink(root + "/pipe")
        symlink("/etc/passwd", root + "/passwd")
        #expect(throws: PaddockError.self) { try PackageSource.entries(in: root) }
    }

    @Test func signaturesAreCheckedAgainstThePolicy() throws {
        let keys = try scratch()
        let root = try folder(Self.files)
        defer { for path in [keys, root] { try? FileManager.default.removeItem(atPath: path) } }
        let publicKey = try SigningKey.generate(in: keys)
        // A key file as editors and other systems leave it: CRLF, a byte order mark.
        let text = try String(contentsOfFile: keys + "/signing.key", encoding: .utf8)
        try Data(("\u{feff}" + text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n").utf8).write(to: URL(fileURLWithPath: keys + "/signing.key"))
        let signed = try PackageWriter.write(PackageSource.entries(in: root), signingKey: SigningKey.privateKey(at: keys + "/signing.key"))
        let unsigned = try PackageWriter.write(PackageSource.entries(in: root))
        var required = PackagePolicy()
        required.signature = .required
        required.trustedKeys = [try SigningKey.publicKey(keys + "/signing.pub")]
        #expect(required.trustedKeys == [publicKey])

        func unpack(_ bytes: [UInt8], _ policy: PackagePolicy) throws -> PackageUnpacker.Unpacked {
            let target = try scratch()
            defer { try? FileManager.default.removeItem(atPath: target) }
            return try PackageUnpacker(policy: policy).unpack(bytes, into: target)
        }
        func reason(_ bytes: [UInt8], _ policy: PackagePolicy) throws -> String? {
            do {
                _ = try unpack(bytes, policy)
                return nil
            } catch let error as PaddockError {
                return error.details["reason"]
            }
        }
        #expect(try unpack(signed.bytes, required).trusted)
        #expect(try reason(unsigned.bytes, required) == "unsigned")
        #expect(try unpack(unsigned.bytes, PackagePolicy()).signer == nil)
        var stranger = required
        stranger.trustedKeys = [try SigningKey.publicKey(Base64.encode(Array(repeating: 7, count: 32)))]
        #expect(try reason(signed.bytes, stranger) == "untrusted_signer")

        // Changed after signing: a file (the digest no longer matches), then the listing with it.
        let path = keys + "/signed.pkg"
        try Data(signed.bytes).write(to: URL(fileURLWithPath: path))
        try HostilePackage.tamper(path, entry: "main.py", text: "import os; os.system('id')\n")
        #expect(try reason(Array(Data(contentsOf: URL(fileURLWithPath: path))), required) == "digest_mismatch")
        let forged = signed.listing.text.replacingOccurrences(
            of: signed.listing.text.split(separator: "\n").first { $0.hasSuffix(" main.py") }!.split(separator: " ")[1],
            with: String(repeating: "0", count: 64))
        try HostilePackage.tamper(path, entry: ".paddock-package/listing", text: forged)
        let result = try reason(Array(Data(contentsOf: URL(fileURLWithPath: path))), required)
        #expect(result == "digest_mismatch" || result == "bad_signature")
    }

    @Test func ignoreRulesFollowGitignore() {
        let ignore = PackageIgnore("*.tmp\n/top.txt\nbuild/\n!important.tmp\na/**/z\n")
        #expect(ignore.ignores("x.tmp", isDirectory: false))
        #expect(ignore.ignores("deep/x.tmp", isDirectory: false))
        #expect(!ignore.ignores("important.tmp", isDirectory: false))
        #expect(ignore.ignores("top.txt", isDirectory: false))
        #expect(!ignore.ignores("sub/top.txt", isDirectory: false))
        #expect(ignore.ignores("build", isDirectory: true))
        #expect(!ignore.ignores("build", isDirectory: false))
        #expect(ignore.ignores("a/z", isDirectory: false))
        #expect(ignore.ignores("a/b/c/z", isDirectory: false))
        #expect(ignore.ignores("src/__pycache__", isDirectory: true))
    }
}
