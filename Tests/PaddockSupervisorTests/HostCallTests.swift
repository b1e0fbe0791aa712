import Foundation
import Glibc
import PaddockCore
import PaddockStorage
@testable import PaddockSupervisor
import PaddockTestSupport
import Testing

/// Plugins calling back into the host: storage under quota, other plugins'
/// tools, permissions checked and denials audited. Real sandboxed Python
/// plugins, real SQLite.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HostCallTests {
    /// Tools over the SDK's storage helpers, and raw host calls for the rest.
    static let storing = """
        import hashlib

        @plugin.tool("put")
        def put(params, context):
            stored = context.storage.set(params["key"], b"v" * params["size"])
            return {"stored": stored, "usage": context.storage.usage()["bytes"]}

        @plugin.tool("get")
        def get(params, context):
            value = context.storage.get(params["key"])
            return {"value": None if value is None else value.decode()}

        @plugin.tool("keys")
        def keys(params, context):
            return {"keys": list(context.storage.keys(params.get("prefix", "")))}

        @plugin.tool("fill")
        def fill(params, context):
            written, refused = 0, 0
            for index in range(params["count"]):
                try:
                    context.storage.set(f"{params['prefix']}{index}", b"x" * (7 + index % 13))
                    written += 1
                except PluginError as error:
                    if error.code != 205:
                        raise
                    refused += 1
            return {"written": written, "refused": refused}

        @plugin.tool("raw")
        def raw(params, context):
            return context._connection.call(params["method"], params["params"])

        @plugin.tool("upload")
        def upload(params, context):
            data = bytes(range(256)) * 20
            chunks = [data[i:i + 1024] for i in range(0, len(data), 1024)]
            checksum = params.get("md5") or hashlib.md5(data).hexdigest()
            begun = context.storage.blob_begin("file.bin", len(data), md5=checksum)
            received = begun["received"]
            for chunk in chunks[received // 1024:params["chunks"]]:
                received = context.storage.blob_append(begun["upload"], received, chunk)
            if params["chunks"] < len(chunks):
                return {"resumed_from": begun["received"], "received": received}
            committed = context.storage.blob_commit(begun["upload"])
            return {"resumed_from": begun["received"], "committed": committed, "intact": context.storage.get_blob("file.bin") == data}
        """

    static let tools = ["put", "get", "keys", "fill", "raw", "upload"]

    /// A plugin whose `call` tool calls another plugin's tool through the host.
    static let calling = """
        @plugin.tool("call")
        def call(params, context):
            return context.tools.invoke(params["plugin"], params["tool"], params.get("params", {}))

        @plugin.tool("words")
        def words(params, context):
            return {"count": len(params["text"].split())}
        """

    /// A second connection to the engine's database, as the tests' own view of the data.
    private func store(_ engine: Engine) throws -> PluginStore {
        try PluginStore(path: engine.configuration.dataDirectory + "/paddock.db")
    }

    private func call(_ engine: Engine, _ id: String, _ tool: String, _ arguments: JSONValue = [:]) async throws -> JSONValue {
        try TestPlugin.json(try await engine.invokeTool(id, tool: tool, arguments: arguments))
    }

    @Test func aPluginStoresUpToItsQuotaAndGets205BeyondWithItsDataUnchanged() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let directory = try TestPlugin.write(
            name: "quota", tools: Self.tools, code: Self.storing, permission: "{storage: 1KB}")
        let id = try await engine.load(directory: directory)
        try await engine.start(id)

        let first = try await call(engine, id, "put", ["key": "a", "size": 500])
        #expect(first == ["stored": true, "usage": .int(1 + 500 + PluginStore.entryOverhead)])
        _ = try await call(engine, id, "put", ["key": "b", "size": 400])
        let refused = await #expect(throws: PaddockError.self) { try await call(engine, id, "put", ["key": "c", "size": 100]) }
        #expect(refused?.code == .storageQuotaExceeded, "\(String(describing: refused))")
        let overwrite = await #expect(throws: PaddockError.self) { try await call(engine, id, "put", ["key": "a", "size": 700]) }
        #expect(overwrite?.code == .storageQuotaExceeded)

        #expect(try await call(engine, id, "get", ["key": "a"]) == ["value": .string(String(repeating: "v", count: 500))])
        #expect(try await call(engine, id, "get", ["key": "c"]) == ["value": nil])
        let usage = try store(engine).usage(.init(plugin: id))
        #expect(usage == 2 * (1 + PluginStore.entryOverhead) + 900)
        #expect(try store(engine).check(plugin: id).allSatisfy(\.consistent))
    }

    @Test func concurrentWritersNeverPassTheQuotaAndUsageMatchesTheData() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let crowded = try await engine.load(directory: try TestPlugin.write(
            name: "crowded", tools: Self.tools, code: Self.storing, workers: 8, permission: "{storage: 4KB}"))
        let neighbour = try await engine.load(directory: try TestPlugin.write(
            name: "neighbour", tools: Self.tools, code: Self.storing, permission: "{storage: 64KB}"))
        try await engine.start(crowded)
        try await engine.start(neighbour)

        let results = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for writer in 0..<8 {
                group.addTask { try await call(engine, crowded, "fill", ["prefix": .string("w\(writer)-"), "count": 40]) }
            }
            group.addTask { try await call(engine, neighbour, "fill", ["prefix": "n-", "count": 200]) }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let refusals = results.compactMap { if case .int(let n)? = $0["refused"] { n } else { nil } }.reduce(0, +)
        #expect(refusals > 0, "the writers must have hit the quota: \(results)")
        let store = try store(engine)
        #expect(try store.usage(.init(plugin: crowded)) <= 4000)
        for id in [crowded, neighbour] {
            let checks = try store.check(plugin: id)
            #expect(!checks.isEmpty && checks.allSatisfy(\.consistent), "\(checks)")
        }
        #expect(try store.list(.init(plugin: neighbour), limit: 1000).items.count == 200)
    }

    @Test func onePluginCanNeverReadOrListAnothersKeys() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let owner = try await engine.load(directory: try TestPlugin.write(
            name: "owner", tools: Self.tools, code: Self.storing, permission: "{storage: 10KB}"))
        let snoop = try await engine.load(directory: try TestPlugin.write(
            name: "snoop", tools: Self.tools, code: Self.storing, permission: "{storage: 10KB}"))
        try await engine.start(owner)
        try await engine.start(snoop)
        _ = try await call(engine, owner, "put", ["key": "secret", "size": 5])

        #expect(try await call(engine, snoop, "get", ["key": "secret"]) == ["value": nil])
        #expect(try await call(engine, snoop, "keys") == ["keys": []])
        // Naming the other plugin (or a tenant) in the params changes nothing: the host decides the namespace.
        let sneaky = try await call(engine, snoop, "raw", [
            "method": "storage.get", "params": ["key": "secret", "plugin": .string(owner), "tenant": ""],
        ])
        #expect(sneaky == ["value": nil])
        #expect(try await call(engine, owner, "keys") == ["keys": ["secret"]])
        // Missing or mistyped parameters are coded errors, and the host goes on.
        for (method, params) in [("storage.blob.append", [:]), ("storage.set", ["key": 5]), ("storage.list", ["limit": "x"])] as [(String, JSONValue)] {
            let refused = await #expect(throws: PaddockError.self) {
                try await call(engine, snoop, "raw", ["method": .string(method), "params": params])
            }
            #expect(refused?.code == .configurationMissing || refused?.code == .wrongFormat, "\(method): \(String(describing: refused))")
        }
        #expect(try await call(engine, owner, "get", ["key": "secret"]) == ["value": "vvvvv"])
    }

    @Test func deniedHostCallsAre104AndAudited() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let plain = try await engine.load(directory: try TestPlugin.write(
            name: "plain", tools: Self.tools + ["call", "words"], code: Self.storing + "\n" + Self.calling))
        try await engine.start(plain)

        let storage = await #expect(throws: PaddockError.self) { try await call(engine, plain, "put", ["key": "a", "size": 1]) }
        #expect(storage?.code == .permissionDenied)
        #expect(storage?.message.contains("permission.storage") == true, "\(String(describing: storage))")
        let tools = await #expect(throws: PaddockError.self) {
            try await call(engine, plain, "call", ["plugin": .string(plain), "tool": "words", "params": ["text": "a b"]])
        }
        #expect(tools?.code == .permissionDenied)
        #expect(tools?.message.contains("permission.tools") == true)
        let apps = await #expect(throws: PaddockError.self) {
            try await call(engine, plain, "raw", ["method": "app.list", "params": [:]])
        }
        #expect(apps?.code == .permissionDenied)

        let audit = try await engine.storage.run { _, audit in try audit.entries(plugin: plain) }
        #expect(audit.map(\.method) == ["storage.set", "tool.invoke", "app.list"])
        #expect(audit.map(\.permission) == ["permission.storage", "permission.tools", "permission.apps: read"])
        #expect(audit.allSatisfy { abs(Double($0.at) / 1000 - Date().timeIntervalSince1970) < 120 })
    }

    @Test func aPluginLoopingOnDeniedCallsAddsAnAuditEventPerPermissionAndMinuteWithEveryDenialCounted() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let looping = try await engine.load(directory: try TestPlugin.write(name: "looping", tools: ["loop"], code: """
            @plugin.tool("loop")
            def loop(params, context):
                denied = 0
                for index in range(params["count"]):
                    method = ["storage.set", "tool.invoke", "app.list"][index % 3]
                    try:
                        context._connection.call(method, {"key": "k", "value": "", "plugin": "x", "tool": "y"})
                    except PluginError as error:
                        denied += error.code == 104
                return {"denied": denied}
            """))
        try await engine.start(looping)
        let result = try await call(engine, looping, "loop", ["count": 3000])
        #expect(result == ["denied": 3000])
        // The counted denials reach the log within a second or so: wait for them all.
        var events: [AuditLog.Entry] = []
        for _ in 0..<200 {
            events = try await engine.storage.run { _, audit in try audit.entries(plugin: looping, limit: 1000) }
            if events.map(\.count).reduce(0, +) == 3000 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(events.map(\.count).reduce(0, +) == 3000, "\(events)")
        #expect(events.count <= 6, "one event per permission and minute (a minute may turn during the loop): \(events.count)")
        #expect(Set(events.map(\.permission)) == ["permission.storage", "permission.tools", "permission.apps: read"])
        let lines = try String(contentsOfFile: try await engine.logPath(looping), encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("denied") }.count <= 6, "the plugin's log has a line per event, not per denial")
    }

    @Test func withToolsPermissionAPluginGetsAnotherPluginsToolResultAndCyclesFailFast() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let caller = try await engine.load(directory: try TestPlugin.write(
            name: "caller", tools: ["call", "words"], code: Self.calling, workers: 1, permission: "{tools: true}"))
        let callee = try await engine.load(directory: try TestPlugin.write(
            name: "callee", tools: ["call", "words"], code: Self.calling, workers: 1,
            parameters: "[{name: text, type: string}]", permission: "{tools: true}"))
        try await engine.start(caller)
        try await engine.start(callee)

        let result = try await call(engine, caller, "call", ["plugin": .string(callee), "tool": "words", "params": ["text": "one two three"]])
        #expect(result == ["count": 3])
        // The target's parameters are validated as for an outside call.
        let invalid = await #expect(throws: PaddockError.self) {
            try await call(engine, caller, "call", ["plugin": .string(callee), "tool": "words", "params": ["text": 5]])
        }
        #expect(invalid?.code == .wrongFormat, "\(String(describing: invalid))")

        // caller → callee → caller: with one worker each this would wait on itself; it is refused at once.
        let started = ContinuousClock.now
        let cycle = await #expect(throws: PaddockError.self) {
            try await call(engine, caller, "call", [
                "plugin": .string(callee), "tool": "call",
                "params": ["plugin": .string(caller), "tool": "words", "params": ["text": "x"]],
            ])
        }
        #expect(cycle?.code == .rateLimited)
        #expect(cycle?.reason == .callCycle, "\(String(describing: cycle))")
        #expect(cycle?.details["reason"] == "call_cycle", "the wire form stays")
        #expect(started.duration(to: .now) < .seconds(3))
        // Both plugins still serve.
        #expect(try await call(engine, caller, "words", ["text": "still here"]) == ["count": 2])
    }

    @Test func anInterruptedBlobUploadResumesAndAWrongChecksumKeepsNothing() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let id = try await engine.load(directory: try TestPlugin.write(
            name: "blobs", tools: Self.tools, code: Self.storing, permission: "{storage: 64KB}"))
        try await engine.start(id)

        // 5120 bytes in 5 chunks: 3 now, as if the plugin were interrupted...
        let partial = try await call(engine, id, "upload", ["chunks": 3])
        #expect(partial == ["resumed_from": 0, "received": 3072])
        // ...in fact killed: its successor resumes from the last acknowledged chunk.
        let pid = try #require(try await engine.status(id).pid)
        kill(pid, SIGKILL)
        for _ in 0..<200 {
            let status = try await engine.status(id)
            if status.restarts == 1, status.state == .running { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let finished = try await call(engine, id, "upload", ["chunks": 5])
        #expect(finished["resumed_from"] == .int(3072))
        #expect(finished["intact"] == .bool(true))
        #expect(finished["committed"]?["size"] == .int(5120))
        let usage = try store(engine).usage(.init(plugin: id))
        #expect(usage == "file.bin".utf8.count + 5120 + PluginStore.entryOverhead)

        _ = try await call(engine, id, "raw", ["method": "storage.blob.delete", "params": ["name": "file.bin"]])
        let wrong = await #expect(throws: PaddockError.self) {
            try await call(engine, id, "upload", ["chunks": 5, "md5": .string(String(repeating: "0", count: 32))])
        }
        #expect(wrong?.code == .unparsableData)
        #expect(try store(engine).usage(.init(plugin: id)) == 0)
        #expect(try store(engine).readBlob(.init(plugin: id), name: "file.bin") == nil)
    }

    @Test func modelAndAppCallsRouteToInstalledPluginsAsTheManifestAllows() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try await engine.load(directory: repository.appendingPathComponent("examples/mini-llm").path)
        let asking = """
            @plugin.tool("ask")
            def ask(params, context):
                return context.models.invoke("mini-llm", "mini-chat", [{"role": "user", "content": params["question"]}])

            @plugin.tool("apps")
            def apps(params, context):
                return {"list": context.apps.list(), "one": context.apps.get("mini-llm")}

            @plugin.tool("poke")
            def poke(params, context):
                return context.apps.invoke("mini-llm", "GET", "/anything")
            """
        let asker = try await engine.load(directory: try TestPlugin.write(
            name: "asker", tools: ["ask", "apps", "poke"], code: asking, permission: "{llms: true, apps: read}"))
        let mute = try await engine.load(directory: try TestPlugin.write(
            name: "mute", tools: ["ask", "apps", "poke"], code: asking))
        for id in [model, asker, mute] { try await engine.start(id) }

        let direct = try TestPlugin.json(try await engine.invokeModel(
            model, model: "mini-chat", messages: [["role": "user", "content": "what is 2 + 3"]]))
        #expect(direct["content"] == .string("2 + 3 = 5."), "\(direct)")
        #expect(try await call(engine, asker, "ask", ["question": "what is 2 + 3"]) == direct)
        let denied = await #expect(throws: PaddockError.self) { try await call(engine, mute, "ask", ["question": "hi"]) }
        #expect(denied?.code == .permissionDenied)
        #expect(denied?.details["permission"] == "permission.llms", "\(String(describing: denied))")

        let apps = try await call(engine, asker, "apps")
        #expect(apps["list"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["asker", "mini-llm", "mute"])
        #expect(apps["one"]?["type"] == .string("model"))
        #expect(apps["one"]?["models"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["mini-chat", "mini-markov"])
        #expect(apps["one"]?["settings"] == nil)
        let write = await #expect(throws: PaddockError.self) { try await call(engine, asker, "poke") }
        #expect(write?.code == .permissionDenied)
        #expect(write?.message.contains("permission.apps: write") == true, "\(String(describing: write))")
        let audit = try await engine.storage.run { _, audit in try audit.entries() }
        #expect(audit.map { "\($0.plugin) \($0.method)" } == ["mute model.invoke", "asker app.invoke"])
    }

    @Test func aPluginFloodingTheHostIsRefusedBeyondItsInFlightLimit() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let storm = """
            import threading

            @plugin.tool("storm")
            def storm(params, context):
                outcomes = []
                def one():
                    try:
                        context.tools.invoke(params["target"], "slow", {})
                        outcomes.append("ok")
                    except PluginError as error:
                        outcomes.append(f"{error.code} {(error.details or {}).get('reason')}")
                threads = [threading.Thread(target=one) for _ in range(40)]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                return {"outcomes": outcomes}

            @plugin.tool("slow")
            def slow(params, context):
                time.sleep(1)
                return {}
            """
        let stormer = try await engine.load(directory: try TestPlugin.write(
            name: "stormer", tools: ["storm", "slow"], code: storm, permission: "{tools: true}"))
        let target = try await engine.load(directory: try TestPlugin.write(
            name: "target", tools: ["storm", "slow"], code: storm, workers: 40))
        try await engine.start(stormer)
        try await engine.start(target)
        let outcomes = try await call(engine, stormer, "storm", ["target": .string(target)])["outcomes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let served = outcomes.filter { $0 == "ok" }.count
        let refused = outcomes.filter { $0 == "206 host_calls_in_flight" }.count
        #expect(served + refused == 40, "\(outcomes)")
        #expect(served >= HostService.maximumInFlight && refused > 0, "\(outcomes)")
        // The limit is on calls in flight, not a ban: the plugin goes on calling.
        #expect(try await call(engine, stormer, "storm", ["target": .string(target)])["outcomes"]?.arrayValue?.contains("ok") == true)
    }
}
