import Foundation
import Glibc
import PaddockCore
@testable import PaddockSupervisor
import PaddockTestSupport
import Synchronization
import Testing

/// The engine with real sandboxed Python plugins, real sockets, real deaths.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct EngineTests {
    static let misbehaving = """
        @plugin.tool("echo")
        def echo(params, context):
            return params

        @plugin.tool("whoami")
        def whoami(params, context):
            return {"pid": os.getpid(), "uid": os.getuid()}

        @plugin.tool("sleep")
        def sleep(params, context):
            time.sleep(params.get("seconds", 60))
            return {"slept": True}

        @plugin.tool("nap")
        def nap(params, context):
            for _ in range(600):
                context.check_cancelled()
                time.sleep(0.01)
            return {}

        @plugin.tool("garbage")
        def garbage(params, context):
            os.write(int(os.environ["PADDOCK_RPC_FD"]), b"this is not JSON\\n")
            time.sleep(5)

        @plugin.tool("flood")
        def flood(params, context):
            os.write(int(os.environ["PADDOCK_RPC_FD"]), b"x" * (20 << 20) + b"\\n")
            time.sleep(5)

        @plugin.tool("hog")
        def hog(params, context):
            chunks = []
            while True:
                chunks.append(bytearray(16 << 20))

        @plugin.tool("probe")
        def probe(params, context):
            pid = params["pid"]
            result = {}
            try:
                os.kill(pid, 0)
                result["signal"] = "ok"
            except OSError as error:
                result["signal"] = error.strerror
            try:
                open(f"/proc/{pid}/environ").read()
                result["environ"] = "ok"
            except OSError as error:
                result["environ"] = error.strerror
            return result

        """
    static let tools = ["echo", "whoami", "sleep", "nap", "garbage", "flood", "hog", "probe"]

    private func started(_ engine: Engine, _ name: String = "misbehaving") async throws -> String {
        let directory = try TestPlugin.write(name: name, tools: Self.tools, code: Self.misbehaving)
        let id = try await engine.load(directory: directory)
        try await engine.start(id)
        return id
    }

    private func code(_ body: () async throws -> some Any) async -> Int? {
        do {
            _ = try await body()
            return nil
        } catch let error as PaddockError {
            return error.code.rawValue
        } catch {
            return -1
        }
    }

    @Test func killedDuringACallFailsWith305AndComesBack() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let id = try await started(engine)
        let pid = try #require(try await engine.status(id).pid)
        let killed = Mutex<ContinuousClock.Instant?>(nil)
        async let call: (Int?, Duration) = {
            let result = await code { try await engine.invokeTool(id, tool: "sleep", arguments: .object(["seconds": .int(30)])) }
            return (result, killed.withLock { $0! }.duration(to: .now))
        }()
        try await Task.sleep(for: .milliseconds(300))
        killed.withLock { $0 = .now }
        kill(pid, SIGKILL)
        let (result, took) = await call
        #expect(result == 305)
        #expect(took < .seconds(1), "the call failed \(took) after the kill")
        // Back within backoff + 1 s, and the next call succeeds.
        let deadline = ContinuousClock.now + .milliseconds(100) + .seconds(1)
        while try await engine.status(id).state != .running, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await engine.status(id).state == .running)
        #expect(try await engine.invokeTool(id, tool: "echo", arguments: .object(["a": .int(1)])) == Array(#"{"a":1}"#.utf8))
        #expect(try await engine.status(id).lastDeath?.details["signal"] == "SIGKILL")
    }

    @Test func crashingAtEveryStartEndsFailedWith306() async throws {
        let engine = try TestPlugin.engine { $0.restart.initialBackoff = .milliseconds(20); $0.restart.maximumBackoff = .milliseconds(50) }
        defer { Task { await engine.shutdown() } }
        let directory = try TestPlugin.write(name: "crasher", tools: ["echo"], code: "os._exit(3)\n")
        let id = try await engine.load(directory: directory)
        #expect(await code { try await engine.start(id) } == 305)
        for _ in 0..<100 where try await engine.status(id).state != .failed { try await Task.sleep(for: .milliseconds(50)) }
        let status = try await engine.status(id)
        #expect(status.state == .failed)
        #expect(status.restarts == 5)
        #expect(await code { try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) } == 306)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await engine.status(id).restarts == 5, "a failed plugin is not restarted again")
    }

    @Test func handlerPastTheDeadlineIs204AndTheNextCallIsServed() async throws {
        let engine = try TestPlugin.engine { $0.callTimeout = .milliseconds(500) }
        defer { Task { await engine.shutdown() } }
        let id = try await started(engine)
        // Honours the cancellation: the same process serves the next call.
        #expect(await code { try await engine.invokeTool(id, tool: "nap", arguments: .object([:])) } == 204)
        let pid = try await engine.status(id).pid
        #expect(try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) == Array("{}".utf8))
        // Ignores it: killed after the grace, restarted, then serves.
        #expect(await code { try await engine.invokeTool(id, tool: "sleep", arguments: .object(["seconds": .int(30)])) } == 204)
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) == Array("{}".utf8))
        let status = try await engine.status(id)
        #expect(status.pid != pid)
        #expect(status.lastDeath?.code == .timedOut)
    }

    @Test(arguments: ["garbage", "flood"])
    func garbageOnTheSocketIs202AndOthersAreUnaffected(tool: String) async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let bad = try await started(engine, "bad")
        let good = try await started(engine, "good")
        #expect(await code { try await engine.invokeTool(bad, tool: tool, arguments: .object([:])) } == 202)
        #expect(try await engine.invokeTool(good, tool: "echo", arguments: .object(["b": .int(2)])) == Array(#"{"b":2}"#.utf8))
        #expect(try await engine.invokeTool(bad, tool: "echo", arguments: .object([:])) == Array("{}".utf8), "restarted")
        #expect(try await engine.status(bad).lastDeath?.code == .unparsableData)
    }

    @Test func allocatingPastTheCapInACallIs301() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let id = try await started(engine)
        #expect(await code { try await engine.invokeTool(id, tool: "hog", arguments: .object([:])) } == 301)
    }

    @Test func startFailuresAreCodedWithinTheStartDeadline() async throws {
        let engine = try TestPlugin.engine { $0.startTimeout = .seconds(2); $0.restart.policy = .never }
        defer { Task { await engine.shutdown() } }
        let cases: [(String, String, [Int])] = [
            ("import-hog", "chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))\n", [301]),
            ("import-spin", "while True:\n    pass\n", [303, 204]),
            ("import-hang", "time.sleep(3600)\n", [204]),
            ("import-error", "raise RuntimeError('broken at import')\n", [203]),
        ]
        for (name, code, expected) in cases {
            let directory = try TestPlugin.write(name: name, tools: ["echo"], code: code, cpuSeconds: 1)
            let id = try await engine.load(directory: directory)
            let started = ContinuousClock.now
            let result = await self.code { try await engine.start(id) }
            #expect(expected.contains(result ?? 0), "\(name): \(String(describing: result))")
            #expect(started.duration(to: .now) < .seconds(4), "\(name) took too long")
        }
    }

    @Test func invalidArgumentsNeverReachThePlugin() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let directory = try TestPlugin.write(
            name: "strict-args", tools: ["greet"],
            code: "@plugin.tool('greet')\ndef greet(params, context):\n    context.log('greet called')\n    return {'hi': params['name']}\n",
            parameters: "[{name: name, type: string, required: true}, {name: times, type: integer}]")
        let id = try await engine.load(directory: directory)
        try await engine.start(id)
        let missing = await #expect(throws: PaddockError.self) { try await engine.invokeTool(id, tool: "greet", arguments: .object([:])) }
        #expect(missing?.code == .configurationMissing)
        #expect(missing?.field == "name")
        let wrong = await #expect(throws: PaddockError.self) {
            try await engine.invokeTool(id, tool: "greet", arguments: .object(["name": .string("a"), "times": .string("x")]))
        }
        #expect(wrong?.code == .wrongFormat)
        #expect(wrong?.field == "times")
        #expect(try await engine.invokeTool(id, tool: "greet", arguments: .object(["name": .string("Ada")])) == Array(#"{"hi":"Ada"}"#.utf8))
        await LogWriter.shared.flush()
        let log = try String(contentsOfFile: try await engine.logPath(id), encoding: .utf8)
        #expect(log.components(separatedBy: "greet called").count == 2, "the plugin saw exactly one call:\n\(log)")
    }

    @Test func announcingAnUndeclaredToolIs104AtStart() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let directory = try TestPlugin.write(
            name: "liar", tools: ["echo"],
            code: "@plugin.tool('echo')\ndef echo(p, c):\n    return p\n@plugin.tool('secret')\ndef secret(p, c):\n    return {}\n")
        let id = try await engine.load(directory: directory)
        let error = await #expect(throws: PaddockError.self) { try await engine.start(id) }
        #expect(error?.code == .permissionDenied)
        #expect(error?.message.contains("secret") == true)
        #expect(try await engine.status(id).state == .failed)
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give plugins uids of their own"))
    func pluginsHaveTheirOwnUidsAndCannotReachEachOther() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let first = try await started(engine, "first")
        let second = try await started(engine, "second")
        let a = try TestPlugin.json(try await engine.invokeTool(first, tool: "whoami", arguments: .object([:])))
        let b = try TestPlugin.json(try await engine.invokeTool(second, tool: "whoami", arguments: .object([:])))
        #expect(a["uid"] != b["uid"])
        #expect(a["uid"] != .int(0))
        // The other plugin's process, as the host numbers it: outside this plugin's pid namespace.
        let other = try #require(try await engine.status(second).pid)
        let probe = try TestPlugin.json(try await engine.invokeTool(first, tool: "probe", arguments: .object(["pid": .int(Int(other))])))
        #expect(["No such process", "Operation not permitted"].contains(probe["signal"]?.stringValue ?? ""), "\(probe)")
        #expect(probe["environ"] != .string("ok"))
        #expect(b["pid"] == .int(2), "each plugin is the second process of its own pid namespace")
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to stop the plugin's process"))
    func idlePluginThatStopsAnsweringIsKilledAndRestarted() async throws {
        let engine = try TestPlugin.engine { $0.heartbeatInterval = .milliseconds(200); $0.heartbeatTimeout = .seconds(1) }
        defer { Task { await engine.shutdown() } }
        let id = try await started(engine)
        let pid = try #require(try await engine.status(id).pid)
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await engine.status(id).pid == pid, "a healthy idle plugin answers its pings")
        kill(pid, SIGSTOP)  // wedged: it can no longer answer anything
        for _ in 0..<100 where try await engine.status(id).pid == pid { try await Task.sleep(for: .milliseconds(50)) }
        let status = try await engine.status(id)
        #expect(status.lastDeath?.code == .timedOut)
        #expect(status.lastDeath?.message.contains("heartbeat") == true)
        #expect(try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) == Array("{}".utf8))
    }

    @Test func aPluginThatCannotBeSpawnedFailsWith105() async throws {
        let engine = try TestPlugin.engine { $0.launcher = "/nonexistent/paddock-sandbox" }
        defer { Task { await engine.shutdown() } }
        let directory = try TestPlugin.write(name: "unspawnable", tools: Self.tools, code: Self.misbehaving)
        let id = try await engine.load(directory: directory)
        #expect(await code { try await engine.start(id) } == 105)
        #expect(try await engine.status(id).state == .failed)
        #expect(await code { try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) } == 306)
    }

    @Test func restartPolicyNeverLeavesACrashedPluginStopped() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let directory = try TestPlugin.write(name: "once", tools: Self.tools, code: Self.misbehaving)
        let id = try await engine.load(directory: directory, restartPolicy: .never)
        try await engine.start(id)
        kill(try #require(try await engine.status(id).pid), SIGKILL)
        try await Task.sleep(for: .milliseconds(500))
        let status = try await engine.status(id)
        #expect(status.state == .stopped)
        #expect(status.restarts == 0)
        #expect(await code { try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) } == 306)
    }

    @Test func callsBeyondTheWorkersQueueAndBeyondTheQueueAre206() async throws {
        let engine = try TestPlugin.engine { $0.queueLimit = 1 }
        defer { Task { await engine.shutdown() } }
        let directory = try TestPlugin.write(name: "single", tools: Self.tools, code: Self.misbehaving, workers: 1)
        let id = try await engine.load(directory: directory)
        try await engine.start(id)
        async let running = code { try await engine.invokeTool(id, tool: "sleep", arguments: .object(["seconds": .double(0.5)])) }
        try await Task.sleep(for: .milliseconds(100))
        async let queued = code { try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(await code { try await engine.invokeTool(id, tool: "echo", arguments: .object([:])) } == 206)
        #expect(await running == nil)
        #expect(await queued == nil)
    }

    @Test func fiftyPluginsStartTogetherAndAnswer() async throws {
        let engine = try TestPlugin.engine { $0.startTimeout = .seconds(60); $0.callTimeout = .seconds(60) }
        defer { Task { await engine.shutdown() } }
        var ids: [String] = []
        for index in 0..<50 {
            let directory = try TestPlugin.write(name: "many-\(index)", tools: ["echo"], code: "@plugin.tool('echo')\ndef echo(p, c):\n    return p\n")
            ids.append(try await engine.load(directory: directory))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    try await engine.start(id)
                    let answer = try await engine.invokeTool(id, tool: "echo", arguments: .object(["id": .string(id)]))
                    #expect(try TestPlugin.json(answer)["id"] == .string(id))
                }
            }
            try await group.waitForAll()
        }
        for id in ids { #expect(try await engine.status(id).state == .running) }
    }

    /// The launcher asks for SIGKILL when its parent thread dies; the engine
    /// spawns from a thread that lives as long as the plugin, so a plugin
    /// outlives the idle pool thread that started it (reaped after ~5 s).
    @Test func anIdlePluginOutlivesTheThreadThatAskedForIt() async throws {
        let engine = try TestPlugin.engine { $0.heartbeatInterval = .seconds(60) }
        defer { Task { await engine.shutdown() } }
        let code = "@plugin.tool(\"echo\")\ndef echo(params, context):\n    return params\n"
        let id = try await engine.load(directory: try TestPlugin.write(name: "idle", tools: ["echo"], code: code))
        try await engine.start(id)
        let pid = try await engine.status(id).pid
        try await Task.sleep(for: .seconds(7))
        let status = try await engine.status(id)
        #expect(status.restarts == 0 && status.pid == pid, "died: \(String(describing: status.lastDeath))")
    }
}
