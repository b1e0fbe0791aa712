import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// A real `paddockd` with real plugins, driven by the real `paddock` CLI.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DaemonTests {
    static let daemonBinary = ProcessRunner.product("paddockd")
    static let textTools = RunCommandTests.textTools
    static let weather = RunCommandTests.weather

    /// A daemon on a fresh data directory, stopped (SIGKILL) at the end.
    final class RunningDaemon {
        let data: String
        private(set) var process: Background

        init(_ options: [String] = []) throws {
            data = "/tmp/paddock-daemon-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            process = try Self.start(data, options)
        }

        /// Starts a daemon and waits until it answers.
        static func start(_ data: String, _ options: [String] = [], errors: String? = nil) throws -> Background {
            let process = try Background(DaemonTests.daemonBinary, ["--data", data] + options, errors: errors)
            for _ in 0..<400 {
                if try ProcessRunner.run(PaddockCLI.binary, ["list"], environment: ["PADDOCK_DATA": data]).status == 0 { break }
                usleep(25_000)
            }
            return process
        }

        func restart() throws {
            process = try Self.start(data)
        }

        func paddock(_ arguments: String...) throws -> ProcessRunner.Result {
            try paddock(arguments)
        }

        func paddock(_ arguments: [String]) throws -> ProcessRunner.Result {
            try ProcessRunner.run(PaddockCLI.binary, arguments, environment: ["PADDOCK_DATA": data])
        }

        func json(_ arguments: String...) throws -> JSONValue {
            let result = try ProcessRunner.run(PaddockCLI.binary, arguments, environment: ["PADDOCK_DATA": data])
            return try JSONValue(parsing: Array(result.stdout.utf8))
        }

        deinit {
            process.stop()
        }
    }

    @Test func installActivateInvokeAndStatus() throws {
        let daemon = try RunningDaemon()
        #expect(try daemon.paddock("install", Self.textTools).status == 0)
        let activated = try daemon.json("activate", "text-tools")
        #expect(activated["state"] == .string("running"))
        let result = try daemon.paddock("invoke", "text-tools", "word_count", "--params", #"{"text": "one two three"}"#)
        #expect(result.stdout == #"{"characters":13,"lines":1,"words":3}"# + "\n", "\(result.stderr)")
        let streamed = try daemon.paddock("invoke", "text-tools", "split_words", "--params", #"{"text": "a b"}"#, "--stream")
        #expect(streamed.stdout == "{\"word\":\"a\"}\n{\"word\":\"b\"}\n{\"count\":2}\n")
        let status = try daemon.json("status", "text-tools", "--json")
        #expect(status["state"] == .string("running"))
        #expect(status["pid"] != nil)
        #expect(status["calls_served"] == .int(2))
        #expect(status["dropped_log_lines"] == .int(0))
        // `logs` answers with what was queued before it was asked.
        #expect(try daemon.paddock("logs", "text-tools").stdout.contains("INFO text-tools running as uid"))
        if geteuid() == 0 { #expect(status["memory_bytes"] != nil, "\(status)") }
        let table = try daemon.paddock("status")
        #expect(table.stdout.contains("text-tools") && table.stdout.contains("running"))
        #expect(try daemon.json("deactivate", "text-tools")["state"] == .string("stopped"))
        #expect(try daemon.paddock("uninstall", "text-tools").status == 0)
        #expect(try daemon.json("list", "--json") == .array([]))
    }

    @Test func settingsWarnsAboutASecretOnTheCommandLineAsTheManifestDeclaresIt() throws {
        let daemon = try RunningDaemon()
        #expect(try daemon.paddock("install", Self.weather).status == 0)
        let inline = try daemon.paddock("settings", "weather-forecast", "--set", "api_key=hunter2", "--set", "units=imperial")
        #expect(inline.status == 0)
        #expect(inline.stderr == PaddockCLI.secretWarning("api_key"), "units is a select, not a secret")
        let keyFile = try PaddockCLI.privateFile("hunter2\n")
        defer { unlink(keyFile) }
        let fromFile = try daemon.paddock("settings", "weather-forecast", "--set", "api_key=@" + keyFile, "--set", "api_base=http://x")
        #expect(fromFile.status == 0 && fromFile.stderr.isEmpty, "\(fromFile.stderr)")
        #expect(try JSONValue(parsing: Array(fromFile.stdout.utf8))["api_key"] == .string("********"))
        let missing = try daemon.paddock("settings", "weather-forecast", "--set", "api_key=@/nonexistent/key")
        #expect(missing.stderr == "error 101: the setting 'api_key': cannot read /nonexistent/key: No such file or directory\n")
    }

    @Test func activationChecksRefuseWithCodesAndLeaveThePluginInactive() throws {
        let daemon = try RunningDaemon()
        #expect(try daemon.paddock("install", Self.weather).status == 0)
        let missing = try daemon.paddock("activate", "weather-forecast")
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error 101:") && missing.stderr.contains("api_key"), "\(missing.stderr)")
        #expect(try daemon.json("list", "--json").arrayValue?.first?["lifecycle"] == .string("inactive"))
        let settings = try daemon.json("settings", "weather-forecast", "--set", "api_key=hunter2")
        #expect(settings["api_key"] == .string("********"), "secrets are never printed back")
        #expect(!(try String(contentsOfFile: daemon.data + "/paddock.db", encoding: .isoLatin1)).contains("hunter2"))
        #expect(try daemon.json("activate", "weather-forecast")["state"] == .string("running"))

        let directory = "/tmp/paddock-daemon-future-\(getpid())"
        let manifest = """
            name: future
            author: tests
            version: "1.0.0"
            type: tool
            description: needs a Python that does not exist yet
            runner: {language: python, version: "9.0", entrypoint: main.py}
            tools: [{provider: t, items: [{name: echo}]}]

            """
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": "\n"])
        #expect(try daemon.paddock("install", directory).status == 0)
        let tooOld = try daemon.paddock("activate", "future")
        #expect(tooOld.stderr.hasPrefix("error 105:"), "\(tooOld.stderr)")
    }

    @Test func aDaemonThatIsNotRunningIsOneClearLine() throws {
        let result = try ProcessRunner.run(PaddockCLI.binary, ["status"], environment: ["PADDOCK_DATA": "/tmp/paddock-no-daemon-\(getpid())"])
        #expect(result.status == 1)
        #expect(result.stderr == "error 306: paddockd is not running for /tmp/paddock-no-daemon-\(getpid()); start it with: paddockd --data /tmp/paddock-no-daemon-\(getpid())\n")
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to run a client as another uid"))
    func theControlSocketRefusesAnotherUid() throws {
        let daemon = try RunningDaemon()
        var info = stat()
        stat(daemon.data + "/paddockd.sock", &info)
        #expect(info.st_mode & 0o777 == 0o600)
        // Open the file permissions so that only the SO_PEERCRED check stands in the way.
        chmod(daemon.data + "/paddockd.sock", 0o666)
        let asNobody = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid", "65534", "--regid", "65534", "--clear-groups", PaddockCLI.binary.path, "list", "--data", daemon.data])
        #expect(asNobody.status != 0)
        #expect(asNobody.stdout.isEmpty)
        #expect(try daemon.paddock("list").status == 0, "root is served")
    }

    @Test func hundredPluginsComeBackAfterTheDaemonIsKilledAndLeaveNoOrphans() throws {
        let daemon = try RunningDaemon()
        var ids: [String] = []
        for index in 0..<100 {
            let directory = "/tmp/paddock-daemon-many-\(getpid())-\(index)"
            let manifest = """
                name: many-\(index)
                author: tests
                version: "1.0.0"
                type: tool
                description: echo
                runner: {language: python, entrypoint: main.py}
                tools: [{provider: t, items: [{name: echo}]}]

                """
            let code = "from paddock_plugin import Plugin\nplugin = Plugin()\n@plugin.tool('echo')\ndef echo(p, c):\n    return p\n"
            try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": code])
            #expect(try daemon.paddock("install", directory).status == 0)
            #expect(try daemon.paddock("activate", "many-\(index)").status == 0)
            ids.append("many-\(index)")
        }
        let before = (try daemon.json("status", "--json").arrayValue ?? []).compactMap { $0["pid"] }
        #expect(before.count == 100)
        kill(daemon.process.pid, SIGKILL)
        _ = daemon.process.wait()
        usleep(300_000)
        for pid in before {
            guard case .int(let number) = pid else { continue }
            #expect(!Self.isRunning(Int32(number)), "plugin \(number) outlived its daemon")
        }
        try daemon.restart()
        var after: [JSONValue] = []
        for _ in 0..<200 {
            after = try daemon.json("status", "--json").arrayValue ?? []
            if after.count == 100, after.allSatisfy({ $0["state"] == .string("running") }) { break }
            usleep(100_000)
        }
        #expect(after.count == 100)
        #expect(after.allSatisfy { $0["state"] == .string("running") }, "\(after)")
        for id in ids.shuffled().prefix(10) {
            #expect(try daemon.paddock("invoke", id, "echo", "--params", #"{"x": 1}"#).stdout == #"{"x":1}"# + "\n")
        }
    }

    @Test func uninstallRefusesWhileCallsAreInFlightUnlessForced() throws {
        let daemon = try RunningDaemon()
        #expect(try daemon.paddock("install", Self.textTools).status == 0)
        #expect(try daemon.paddock("activate", "text-tools").status == 0)
        let call = try Background(PaddockCLI.binary, [
            "invoke", "text-tools", "split_words", "--params", #"{"text": "a b c d", "delay_ms": 300}"#, "--stream", "--data", daemon.data,
        ])
        defer { call.stop() }
        #expect(call.nextLine() == #"{"word":"a"}"#)
        let refused = try daemon.paddock("uninstall", "text-tools")
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("error 206:"), "\(refused.stderr)")
        #expect(try daemon.paddock("uninstall", "text-tools", "--force").status == 0)
        #expect(try daemon.json("list", "--json") == .array([]))
    }

    @Test func sigtermStopsThePluginsAndExitsZero() throws {
        let daemon = try RunningDaemon()
        #expect(try daemon.paddock("install", Self.textTools).status == 0)
        #expect(try daemon.paddock("activate", "text-tools").status == 0)
        let pid = try #require(try daemon.json("status", "text-tools", "--json")["pid"].flatMap { if case .int(let n) = $0 { Int32(n) } else { nil } })
        // A streaming call is in flight when SIGTERM arrives.
        let call = try Background(PaddockCLI.binary, [
            "invoke", "text-tools", "split_words", "--params", #"{"text": "a b c d e f", "delay_ms": 200}"#, "--stream", "--data", daemon.data,
        ])
        defer { call.stop() }
        #expect(call.nextLine() == #"{"word":"a"}"#)
        let started = ContinuousClock.now
        kill(daemon.process.pid, SIGTERM)
        // The call in flight is let finish before the plugins stop.
        for word in ["b", "c", "d", "e", "f"] { #expect(call.nextLine() == "{\"word\":\"\(word)\"}") }
        #expect(call.nextLine() == #"{"count":6}"#)
        #expect(call.wait() == 0)
        #expect(daemon.process.wait() == 0)
        #expect(started.duration(to: .now) < .seconds(10))
        #expect(!Self.isRunning(pid), "the plugin was stopped")
        #expect(access(daemon.data + "/paddockd.sock", F_OK) != 0, "the socket is removed")
    }

    /// Alive and not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.isEmpty && stat.split(separator: ")").last?.split(separator: " ").first != "Z"
    }
}
