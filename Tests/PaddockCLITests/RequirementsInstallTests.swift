import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// A Python plugin's `requirements.txt`, installed from PyPI at install
/// time into an environment of its own, shared by equal requirements, and
/// never left half-installed.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct RequirementsInstallTests {
    typealias RunningDaemon = DaemonTests.RunningDaemon

    /// Whether this host has a Python 3.12 or newer besides Debian's 3.11 (a version manager's).
    static let hasNewerPython = ((try? FileManager.default.contentsOfDirectory(atPath: "/root/.pyenv/versions")) ?? [])
        .contains { $0.hasPrefix("3.12") || $0.hasPrefix("3.13") }

    /// A tool plugin whose `hello` imports `six` and answers with its version and Python's.
    private func plugin(_ name: String, requirements: String, in work: String, python: String = "3.11") throws -> String {
        let folder = work + "/" + name
        let created = try PaddockCLI.run("init", "--type", "tool", "--name", name, "--author", "a", "--dir", folder)
        try #require(created.status == 0, "\(created.stderr)")
        let main = try String(contentsOfFile: folder + "/main.py", encoding: .utf8)
        try Data(main.replacingOccurrences(
            of: #"return {"greeting": f"Hello, {name}!"}"#,
            with: #"import six, sys; return {"greeting": f"Hello, {name}!", "six": six.__version__, "python": sys.version.split()[0]}"#).utf8
        ).write(to: URL(fileURLWithPath: folder + "/main.py"))
        let manifest = try String(contentsOfFile: folder + "/manifest.yaml", encoding: .utf8)
        try Data(manifest.replacingOccurrences(of: #"version: "3.11""#, with: #"version: "\#(python)""#).utf8)
            .write(to: URL(fileURLWithPath: folder + "/manifest.yaml"))
        try Data(requirements.utf8).write(to: URL(fileURLWithPath: folder + "/requirements.txt"))
        return folder
    }

    private func environments(_ data: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: data + "/envs")) ?? []).sorted()
    }

    @Test func requirementsAreInstalledAndSharedByPluginsThatNameTheSame() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemon = try RunningDaemon()
        let installed = try daemon.paddock("install", try plugin("six-user", requirements: "six==1.16.0\n", in: work))
        try #require(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stderr.contains("six"), "progress lines: \(installed.stderr)")
        #expect(try daemon.paddock("activate", "six-user").status == 0)
        let answer = try daemon.paddock("invoke", "six-user", "hello", "--params", #"{"name": "Ada"}"#)
        #expect(answer.stdout.contains(#""six":"1.16.0""#), "\(answer.stdout) \(answer.stderr)")

        let second = try daemon.paddock("install", try plugin("six-too", requirements: "six==1.16.0\n", in: work))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("installing requirements.txt"), "the environment is built again: \(second.stderr)")
        #expect(environments(daemon.data).count == 1, "\(environments(daemon.data))")

        // The environment goes with the last plugin that uses it.
        #expect(try daemon.paddock("uninstall", "six-too").status == 0)
        #expect(environments(daemon.data).count == 1)
        #expect(try daemon.paddock("uninstall", "six-user", "--force").status == 0)
        #expect(environments(daemon.data) == [])
    }

    @Test(.enabled(if: hasNewerPython, "needs a Python 3.12 or newer under /root/.pyenv"))
    func aRunnerVersionGetsAnInterpreterThatSatisfiesIt() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemon = try RunningDaemon()
        let installed = try daemon.paddock("install", try plugin("newer", requirements: "six==1.16.0\n", in: work, python: "3.12"))
        try #require(installed.status == 0, "\(installed.stderr)")
        let activated = try daemon.paddock("activate", "newer")
        try #require(activated.status == 0, "\(activated.stderr)")
        let answer = try daemon.paddock("invoke", "newer", "hello", "--params", #"{"name": "Ada"}"#)
        #expect(answer.stdout.contains(#""python":"3.12"#) || answer.stdout.contains(#""python":"3.13"#), "\(answer.stdout) \(answer.stderr)")
        #expect(answer.stdout.contains(#""six":"1.16.0""#))
    }

    @Test func aProjectWithAUVLockInstallsWhatTheLockPinsAndUnsafeOptionsAreRefused() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemon = try RunningDaemon()
        let folder = try plugin("locked", requirements: "", in: work)
        try FileManager.default.removeItem(atPath: folder + "/requirements.txt")
        try Data("[project]\nname = \"locked\"\nversion = \"0.1.0\"\ndependencies = [\"six\"]\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/pyproject.toml"))
        try Data("""
            version = 1
            requires-python = ">=3.11"

            [[package]]
            name = "six"
            version = "1.15.0"
            source = { registry = "https://pypi.org/simple" }

            [[package]]
            name = "locked"
            version = "0.1.0"
            source = { virtual = "." }
            dependencies = [{ name = "six" }]

            """.utf8).write(to: URL(fileURLWithPath: folder + "/uv.lock"))
        let installed = try daemon.paddock("install", folder)
        try #require(installed.status == 0, "\(installed.stderr)")
        #expect(try daemon.paddock("activate", "locked").status == 0)
        let answer = try daemon.paddock("invoke", "locked", "hello", "--params", #"{"name": "Ada"}"#)
        #expect(answer.stdout.contains(#""six":"1.15.0""#), "\(answer.stdout) \(answer.stderr)")

        // Options that would make pip build (run) a package's code as root, or read the host's files.
        for requirements in ["six==1.16.0\n--no-binary=:all:\n", "-e /etc\n", "./local-package\n", "six @ file:///etc/passwd\n"] {
            let unsafe = try daemon.paddock("install", try plugin("unsafe", requirements: requirements, in: work + "/\(requirements.hashValue)"))
            #expect(unsafe.status == 1 && unsafe.stderr.contains("error 102"), "\(requirements): \(unsafe.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.data + "/plugins") == ["locked"])
    }

    @Test func anIndexThatCannotBeReachedIs105WithTheInstallersLastLines() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemon = try RunningDaemon()
        let folder = try plugin("offline", requirements: "--index-url http://127.0.0.1:9/simple\nsix==1.16.0\n", in: work)
        let result = try daemon.paddock("install", folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error 105") && result.stderr.contains("six"), "\(result.stderr)")
        #expect(try daemon.json("list", "--json") == .array([]))
        #expect(environments(daemon.data) == [])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: daemon.data + "/plugins")) == [])
    }

    @Test func aDaemonKilledDuringTheInstallComesBackWithThePluginWholeOrAbsent() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemon = try RunningDaemon()
        let folder = try plugin("interrupted", requirements: "six==1.15.0\n", in: work)
        let install = try Background(PaddockCLI.binary, ["install", folder, "--data", daemon.data], errors: work + "/install.err")
        // The event: the environment's build has begun.
        var building = false
        for _ in 0..<6000 where !building {
            building = environments(daemon.data).contains { $0.hasPrefix(".building-") }
            if !building { usleep(5000) }
        }
        #expect(building, "the environment's build never began: \((try? String(contentsOfFile: work + "/install.err", encoding: .utf8)) ?? "")")
        daemon.process.stop()
        install.stop()
        try daemon.restart()

        let list = try daemon.json("list", "--json")
        let plugins = try FileManager.default.contentsOfDirectory(atPath: daemon.data + "/plugins")
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.data + "/staging") == [])
        #expect(!environments(daemon.data).contains { $0.hasPrefix(".building-") })
        if list == .array([]) {
            #expect(plugins == [])
        } else {
            // It finished before the kill: then it is whole, and runs.
            #expect(try daemon.paddock("activate", "interrupted").status == 0)
        }
        // Installing again works, from nothing.
        let again = try daemon.paddock("install", folder)
        #expect(again.status == 0 || again.stdout.contains("unchanged"), "\(again.stderr)")
        #expect(try daemon.paddock("activate", "interrupted").status == 0)
        let answer = try daemon.paddock("invoke", "interrupted", "hello", "--params", #"{"name": "Ada"}"#)
        #expect(answer.stdout.contains(#""six":"1.15.0""#), "\(answer.stdout) \(answer.stderr)")
    }
}
