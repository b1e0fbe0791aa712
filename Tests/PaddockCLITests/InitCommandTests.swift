import Foundation
import PaddockTestSupport
import Testing

/// `paddock init` writes plugins that pass `paddock validate`.
@Suite struct InitCommandTests {
    private func withScratch<T>(_ body: (URL) throws -> T) throws -> T {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("paddock-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        return try body(scratch)
    }

    @Test(arguments: ["tool", "model", "extension"], ["python", "swift"])
    func initialisedPluginValidates(type: String, language: String) throws {
        try withScratch { scratch in
            let directory = scratch.appendingPathComponent("my-plugin")
            let created = try PaddockCLI.run(
                "init", "--type", type, "--name", "my-plugin", "--author", "Jane \"JD\" Doe: tests",
                "--dir", directory.path, "--language", language
            )
            #expect(created.status == 0, "\(created.stderr)")
            let (status, report) = try PaddockCLI.validateJSON(directory)
            #expect(status == 0, "\(report)")
            let manifest = try #require(report["manifest"] as? [String: Any])
            #expect(manifest["type"] as? String == type)
            #expect(manifest["author"] as? String == "Jane \"JD\" Doe: tests")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("README.md").path))
            let handler = language == "python" ? "main.py" : "Sources/my-plugin/main.swift"
            let source = try String(contentsOf: directory.appendingPathComponent(handler), encoding: .utf8)
            #expect(source.contains(language == "python" ? "from paddock_plugin import Plugin" : "import PaddockPluginKit"))
        }
    }

    @Test(arguments: ["tool", "model", "extension"])
    func pythonSkeletonCompiles(type: String) throws {
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        try #require(FileManager.default.isExecutableFile(atPath: python.path), "Debian's python3 is needed")
        try withScratch { scratch in
            let directory = scratch.appendingPathComponent("p")
            _ = try PaddockCLI.run("init", "--type", type, "--name", "p", "--author", "a", "--dir", directory.path)
            let compiled = try ProcessRunner.run(
                python,
                ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", directory.appendingPathComponent("main.py").path]
            )
            #expect(compiled.status == 0, "\(compiled.stderr)")
        }
    }

    @Test func defaultDirectoryIsTheName() throws {
        try withScratch { scratch in
            let result = try ProcessRunner.run(
                URL(fileURLWithPath: "/bin/sh"),
                ["-c", "cd \"$1\" && exec \"$2\" init --type tool --name hello-tool --author me", "sh", scratch.path, PaddockCLI.binary.path]
            )
            #expect(result.status == 0, "\(result.stderr)")
            let (status, _) = try PaddockCLI.validateJSON(scratch.appendingPathComponent("hello-tool"))
            #expect(status == 0)
        }
    }

    @Test(arguments: ["Bad_Name", "", "with space", String(repeating: "x", count: 65)])
    func invalidNameWritesNothing(name: String) throws {
        try withScratch { scratch in
            let directory = scratch.appendingPathComponent("out")
            let result = try PaddockCLI.run("init", "--type", "tool", "--name", name, "--author", "a", "--dir", directory.path)
            #expect(result.status == 1)
            #expect(result.stderr.contains(name.isEmpty ? "error 101" : "error 102"))
            #expect(!FileManager.default.fileExists(atPath: directory.path))
        }
    }

    @Test func refusesANonEmptyDirectory() throws {
        try withScratch { scratch in
            try Data("keep me".utf8).write(to: scratch.appendingPathComponent("notes.txt"))
            let result = try PaddockCLI.run("init", "--type", "tool", "--name", "x", "--author", "a", "--dir", scratch.path)
            #expect(result.status == 1)
            #expect(try String(contentsOf: scratch.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")
            #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("manifest.yaml").path))
        }
    }

    @Test func unknownTypeIsAUsageError() throws {
        let result = try PaddockCLI.run("init", "--type", "widget", "--name", "x", "--author", "a")
        #expect(result.status != 0)
        #expect(result.stderr.contains("widget"))
    }
}
