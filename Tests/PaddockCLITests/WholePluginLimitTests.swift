import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// `resource.cpu_seconds` and `resource.disk` bound the plugin as a whole,
/// through `paddock run` as a user runs it.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: geteuid() == 0, "cgroups and the plugin's view need root"))
struct WholePluginLimitTests {
    static func plugin() throws -> String {
        let directory = "/tmp/paddock-limits-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let manifest = """
            name: spinner
            author: tests
            version: "1.0.0"
            type: tool
            description: spins in children and fills its disk
            runner: {language: python, entrypoint: main.py}
            resource: {cpu_seconds: 2, disk: 16MB}
            tools:
              - provider: test
                items:
                  - {name: spin}
                  - {name: fill}

            """
        let code = """
            import errno, os
            from paddock_plugin import Plugin
            plugin = Plugin()

            @plugin.tool("spin")
            def spin(params, context):
                for _ in range(3):
                    if os.fork() == 0:
                        while True: pass
                while True: pass

            @plugin.tool("fill")
            def fill(params, context):
                written = 0
                try:
                    for n in range(100_000):
                        with open(os.path.join(["/data", "/tmp"][n % 2], f"f{n}"), "wb") as f:
                            f.write(b"x" * (256 << 10))
                        written += 256 << 10
                except OSError as error:
                    return {"error": errno.errorcode[error.errno], "written": written}
                return {"written": written}
            """
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": code])
        return directory
    }

    @Test func forkedChildrenSpendOneCPUBudgetAnd303EndsThemAll() throws {
        let directory = try Self.plugin()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let started = ContinuousClock.now
        let result = try PaddockCLI.run("run", directory, "--tool", "spin", "--params", "{}", "--timeout", "30")
        let elapsed = ContinuousClock.now - started
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error 303:"), "\(result.stderr)")
        // Four spinning processes on this machine's CPUs spend 2 CPU-seconds well before 30 s of wall time.
        #expect(elapsed < .seconds(10), "stopped after \(elapsed)")
    }

    @Test func theDataDirectoryAndTmpShareTheDeclaredDisk() throws {
        let directory = try Self.plugin()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try PaddockCLI.run("run", directory, "--tool", "fill", "--params", "{}")
        #expect(result.status == 0, "\(result.stderr)")
        let answer = try JSONValue(parsing: Array(result.stdout.utf8))
        #expect(answer["error"] == "ENOSPC")
        let written = Int(answer["written"]?.numberValue ?? 0)
        #expect((12_000_000...16_000_000).contains(written), "\(written) bytes")
    }
}
