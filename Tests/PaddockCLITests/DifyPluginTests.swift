import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Unmodified Dify plugins (written with Dify's official SDK, in
/// `Tests/dify-plugins`) installed from a folder and from a `.difypkg`, run
/// under the sandbox through the `paddock_dify` bridge, and answering as
/// they answer under a bare stdio driver, with Paddock's limits, permission
/// checks, audit and supervision.
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: DifyPlugins.hasPython, "needs a Python 3.12 or newer under /root/.pyenv"))
struct DifyPluginTests {
    typealias RunningDaemon = DaemonTests.RunningDaemon

    /// A daemon (with `options`) whose Python environments are the shared ones.
    private func daemon(_ options: [String] = []) throws -> RunningDaemon {
        let daemon = try RunningDaemon(options)
        try DifyPlugins.shareEnvironments(daemon.data)
        return daemon
    }

    /// Installs and activates a plugin of `Tests/dify-plugins`.
    private func activate(_ daemon: RunningDaemon, _ name: String) throws {
        let installed = try daemon.paddock("install", DifyPlugins.folder(name))
        try #require(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stdout.contains(#""format":"dify""#), "\(installed.stdout)")
        let activated = try daemon.paddock("activate", name)
        let log = try daemon.paddock("logs", name).stdout
        try #require(activated.status == 0, "\(activated.stderr)\n\(log)")
    }

    /// What the bare driver gets from the same copy of the plugin, with the same interpreter and libraries.
    private func bare(_ daemon: RunningDaemon, _ plugin: String, _ arguments: [String]) throws -> JSONValue {
        let environment = try #require(DifyPlugins.environment(daemon.data))
        let copy = daemon.data + "/plugins/\(plugin)/0.0.1"
        let result = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/python3"), [DifyPlugins.driver, "--python", environment + "/bin/python", "--plugin", copy] + arguments)
        try #require(result.status == 0, "\(result.stdout)\(result.stderr)")
        return try JSONValue(parsing: Array(result.stdout.utf8))
    }

    @Test func aToolPluginInstallsAndAnswersAsUnderTheBareSDK() throws {
        let daemon = try daemon()
        let validated = try ProcessRunner.run(PaddockCLI.binary, ["validate", DifyPlugins.folder("dify_messages")])
        #expect(validated.status == 0 && validated.stdout.contains("Dify plugin dify_messages 0.0.1 (tool) is valid"), "\(validated.stdout)")
        try activate(daemon, "dify_messages")

        let params = #"{"text": "hi", "count": 3, "loud": true, "style": "fancy"}"#
        let answer = try daemon.paddock("invoke", "dify_messages", "showcase", "--params", params)
        try #require(answer.status == 0, "\(answer.stderr)")
        let paddock = try JSONValue(parsing: Array(answer.stdout.utf8))
        let messages = try #require(paddock["messages"]?.arrayValue)
        #expect(messages.compactMap { $0["type"]?.stringValue } == ["text", "json", "link", "image", "variable", "blob"], "\(paddock)")
        #expect(messages[0]["message"]?["text"] == "*~ HI ~* *~ HI ~* *~ HI ~*")
        // The blob's chunks come back whole, with their mime type and file name.
        let blob = try #require(messages[5]["message"]?["blob"]?.stringValue.flatMap(Base64.decode))
        #expect(blob.starts(with: [0x89, 0x50, 0x4E, 0x47]) && blob.count > 20_000, "\(blob.count) bytes")
        #expect(messages[5]["meta"]?["mime_type"] == "image/png" && messages[5]["meta"]?["filename"] == "square.png")
        #expect(paddock == (try bare(daemon, "dify_messages", ["call", "showcase", "--params", params])))

        // Streamed, each message is a chunk as it comes.
        let streamed = try daemon.paddock("invoke", "dify_messages", "showcase", "--params", params, "--stream")
        #expect(streamed.stdout.split(separator: "\n").count == 7, "\(streamed.stdout.prefix(2000))")

        // The host checks the inputs against the tool's yaml before the plugin sees them.
        let outOfRange = try daemon.paddock("invoke", "dify_messages", "showcase", "--params", #"{"text": "hi", "count": 9}"#)
        #expect(outOfRange.stderr.hasPrefix("error 102:") && outOfRange.stderr.contains("count"), "\(outOfRange.stderr)")
        let missing = try daemon.paddock("invoke", "dify_messages", "showcase", "--params", #"{"count": 2}"#)
        #expect(missing.stderr.hasPrefix("error 101:"), "\(missing.stderr)")
        let choice = try daemon.paddock("invoke", "dify_messages", "showcase", "--params", #"{"text": "hi", "style": "bold"}"#)
        #expect(choice.stderr.hasPrefix("error 102:"), "\(choice.stderr)")
        // A raising tool is 203 with the plugin's message, and the plugin serves on.
        let failed = try daemon.paddock("invoke", "dify_messages", "fail")
        #expect(failed.stderr.hasPrefix("error 203:") && failed.stderr.contains("the input was refused"), "\(failed.stderr)")
        #expect(try daemon.paddock("invoke", "dify_messages", "showcase", "--params", params).status == 0)

        // Sandboxed: its own uid, a private writable home and tmp, its folder
        // read-only, no network, nothing of the host's environment or the bridge's socket.
        let probe = try daemon.json("invoke", "dify_messages", "probe")["messages"]?.arrayValue?.first?["message"]?["json_object"]
        #expect(probe?["home"] == "/data" && probe?["home_writable"] == "ok" && probe?["tmp_writable"] == "ok", "\(String(describing: probe))")
        #expect(probe?["plugin_writable"] == "errno 30", "read-only file system: \(String(describing: probe))")
        #expect(probe?["inet_socket"] == "errno 1" && probe?["inet6_socket"] == "errno 1", "\(String(describing: probe))")
        #expect(probe?["uid"] != .int(0))
        let names = probe?["environment"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(!names.contains("PADDOCK_RPC_FD") && !names.contains("PADDOCK_DIFY") && names.contains("INSTALL_METHOD"), "\(names)")
    }

    /// The bridge's own tests (`sdk/python/tests/test_dify_bridge.py`) need the SDK: run them with the installed one.
    @Test func theBridgesOwnTestsPassWithTheSDK() throws {
        let daemon = try daemon()
        try activate(daemon, "dify_messages")
        let python = try #require(DifyPlugins.environment(daemon.data)) + "/bin/python"
        let tests = DifyPlugins.folder("../../sdk/python/tests")
        let result = try ProcessRunner.run(URL(fileURLWithPath: python), ["-m", "unittest", "discover", "-s", tests, "-p", "test_dify_bridge.py"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("OK") && !result.stderr.contains("skipped"), "\(result.stderr)")
    }

    @Test func networkIsTheOperatorsToGrantAtInstall() throws {
        let daemon = try daemon()
        let installed = try daemon.paddock("install", DifyPlugins.folder("dify_messages"), "--allow-network")
        try #require(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stdout.contains(#""network_granted":true"#), "\(installed.stdout)")
        #expect(try daemon.paddock("activate", "dify_messages").status == 0)
        let probe = try daemon.json("invoke", "dify_messages", "probe")["messages"]?.arrayValue?.first?["message"]?["json_object"]
        #expect(probe?["inet_socket"] == "ok", "\(String(describing: probe))")
        // The grant outlives a restart of the daemon.
        daemon.process.stop()
        try daemon.restart()
        let again = try daemon.json("invoke", "dify_messages", "probe")["messages"]?.arrayValue?.first?["message"]?["json_object"]
        #expect(again?["inet_socket"] == "ok", "\(String(describing: again))")
    }

    @Test func aKillAMemoryHogAndAHangAreSupervisedAsForNativePlugins() throws {
        // Long enough for a call to wait out the hung process's grace and a restart (with backoff, a cold start of the SDK).
        let daemon = try daemon(["--call-timeout", "10"])
        try activate(daemon, "dify_messages")
        let params = #"{"text": "hi"}"#

        // kill -9: classified 305, restarted, serving again.
        let running = try daemon.json("status", "dify_messages", "--json")
        guard case .int(let pid)? = running["pid"] else { Issue.record("no pid: \(running)"); return }
        kill(pid_t(pid), SIGKILL)
        var death: JSONValue?
        for _ in 0..<400 where death == nil {
            death = try daemon.json("status", "dify_messages", "--json")["last_death"]
            if death == nil { usleep(25_000) }
        }
        #expect(death?["code"] == .int(305), "\(String(describing: death))")
        #expect(try daemon.paddock("invoke", "dify_messages", "showcase", "--params", params).status == 0)

        // A memory hog: 301, and the plugin comes back.
        let hog = try daemon.paddock("invoke", "dify_messages", "hog")
        #expect(hog.stderr.hasPrefix("error 301:"), "\(hog.stderr)")
        #expect(try daemon.paddock("invoke", "dify_messages", "showcase", "--params", params).status == 0)

        // A hang (gevent stops the whole process, heartbeats too): 204 at the deadline,
        // then the plugin, which cannot honour the cancel, is killed and restarted. A
        // call made meanwhile waits for the new process rather than die with the old.
        let restarts = try daemon.json("status", "dify_messages", "--json")["restarts"]
        let hang = try daemon.paddock("invoke", "dify_messages", "hang")
        #expect(hang.stderr.hasPrefix("error 204:"), "\(hang.stderr)")
        let again = try daemon.paddock("invoke", "dify_messages", "showcase", "--params", params)
        #expect(again.status == 0, "\(again.stderr)")
        let status = try daemon.json("status", "dify_messages", "--json")
        #expect(status["state"] == "running" && status["restarts"] != restarts, "\(status)")
        #expect(status["last_death"]?["code"] == .int(204), "\(status)")
    }

    @Test func storageBeyondTheDeclaredSizeAndAToolCallWithoutPermissionAreRefusedAndAudited() throws {
        let daemon = try daemon()
        try activate(daemon, "dify_messages")
        try activate(daemon, "dify_storage")
        try activate(daemon, "dify_caller")

        let stored = try daemon.json("invoke", "dify_storage", "put", "--params", #"{"key": "k1", "value": "v1"}"#)
        #expect(stored["messages"]?.arrayValue?.first?["message"]?["text"] == "stored", "\(stored)")
        let read = try daemon.json("invoke", "dify_storage", "get", "--params", #"{"key": "k1"}"#)
        #expect(read["messages"]?.arrayValue?.first?["message"]?["text"] == "v1", "\(read)")

        // manifest: storage size 1024.
        let large = String(repeating: "x", count: 2000)
        let full = try daemon.paddock("invoke", "dify_storage", "put", "--params", #"{"key": "k2", "value": "\#(large)"}"#)
        #expect(full.status == 1 && full.stderr.contains("205"), "\(full.stderr)")
        let kept = try daemon.json("invoke", "dify_storage", "get", "--params", #"{"key": "k1"}"#)
        #expect(kept["messages"]?.arrayValue?.first?["message"]?["text"] == "v1")

        // No tool permission: refused; with it, the other plugin's messages come through.
        let denied = try daemon.paddock("invoke", "dify_storage", "call_other")
        #expect(denied.status == 1 && denied.stderr.contains("permission.tools"), "\(denied.stderr)")
        let allowed = try daemon.json("invoke", "dify_caller", "call_other")
        #expect(allowed["messages"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["text", "json", "link", "image", "variable", "blob"], "\(allowed)")

        let audit = try daemon.json("audit", "dify_storage", "--json").arrayValue ?? []
        let permissions = audit.compactMap { $0["permission"]?.stringValue }
        #expect(permissions.contains("permission.tools"), "\(audit)")
        #expect(permissions.contains { $0.hasPrefix("permission.storage (quota") }, "\(audit)")
    }

    @Test func aDifypkgInstallsAndOneWithAPathTraversalIsRefusedLeavingNothing() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemon = try daemon()
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        let package = work + "/dify_endpoint.difypkg"
        #expect(try ProcessRunner.run(python, [DifyPlugins.packer, DifyPlugins.folder("dify_endpoint"), package]).status == 0)
        let installed = try daemon.paddock("install", package)
        try #require(installed.status == 0, "\(installed.stderr)")
        #expect(try daemon.paddock("activate", "dify_endpoint").status == 0)
        let called = try daemon.paddock("invoke", "dify_endpoint", "--endpoint", "/hello", "--query", "name=Ada")
        let hello = try JSONValue(parsing: Array(called.stdout.utf8))
        #expect(hello["status"] == 200 && hello["body"] == "hello, Ada" && hello["headers"]?["X-Plugin"] == "dify", "\(hello) \(called.stderr)")
        let item = try daemon.json("invoke", "dify_endpoint", "--endpoint", "/items/42")
        #expect(item["body"]?.stringValue.flatMap { try? JSONValue(parsing: Array($0.utf8)) } == ["item": "42"], "\(item)")
        let echo = try daemon.json("invoke", "dify_endpoint", "--endpoint", "/echo", "--method", "POST", "--body", #"{"a": 1}"#)
        #expect(echo["status"] == 201 && echo["body"] == #"{"a": 1}"#, "\(echo)")
        let unknown = try daemon.paddock("invoke", "dify_endpoint", "--endpoint", "/nowhere")
        #expect(unknown.stderr.contains("error 104:"), "\(unknown.stderr)")

        let before = try Self.listing(daemon.data)
        let hostile = work + "/hostile.difypkg"
        #expect(try ProcessRunner.run(python, [DifyPlugins.packer, "--traversal", DifyPlugins.folder("dify_messages"), hostile]).status == 0)
        let refused = try daemon.paddock("install", hostile)
        #expect(refused.status == 1 && refused.stderr.contains("error 102:") && refused.stderr.contains("../../escaped.txt"), "\(refused.stderr)")
        #expect(try Self.listing(daemon.data) == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/absolute.txt"))
        #expect(!FileManager.default.fileExists(atPath: daemon.data + "/escaped.txt"))
        #expect(try daemon.paddock("list").stdout.contains("dify_messages") == false)
    }

    @Test func theSignaturePolicyAppliesToDifyPackages() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        #expect(try PaddockCLI.run("keys", "gen-signing", "--out", work + "/keys").status == 0)
        try Data("packages:\n  signature: required\n  trusted_keys: [\(work)/keys/signing.pub]\n".utf8)
            .write(to: URL(fileURLWithPath: work + "/paddockd.yaml"))
        let daemon = try daemon(["--config", work + "/paddockd.yaml"])
        let package = work + "/dify_endpoint.difypkg"
        #expect(try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/python3"), [DifyPlugins.packer, DifyPlugins.folder("dify_endpoint"), package]).status == 0)
        let unsigned = try daemon.paddock("install", package)
        #expect(unsigned.status == 1 && unsigned.stderr.contains("error 104") && unsigned.stderr.contains("not signed"), "\(unsigned.stderr)")
        // Packed and signed by the operator, the same plugin installs.
        let packed = try PaddockCLI.run("pack", DifyPlugins.folder("dify_endpoint"), "-o", work + "/signed.pkg", "--sign", work + "/keys/signing.key")
        try #require(packed.status == 0, "\(packed.stderr)")
        let signed = try daemon.paddock("install", work + "/signed.pkg")
        #expect(signed.status == 0 && signed.stdout.contains(#""trusted_signer":true"#), "\(signed.stdout)\(signed.stderr)")
    }

    @Test func paddockRunCallsADifyPluginFolder() throws {
        let run = try ProcessRunner.run(
            PaddockCLI.binary, ["run", DifyPlugins.folder("dify_messages"), "--tool", "showcase", "--params", #"{"text": "run"}"#])
        #expect(run.status == 0, "\(run.stderr)")
        let result = try JSONValue(parsing: Array(run.stdout.utf8))
        #expect(result["messages"]?.arrayValue?.count == 6, "\(result)")
        let failed = try ProcessRunner.run(PaddockCLI.binary, ["run", DifyPlugins.folder("dify_messages"), "--tool", "fail"])
        #expect(failed.status == 1 && failed.stderr.hasPrefix("error 203:"), "\(failed.stderr)")
    }

    /// Every path under the data folder but the logs, the database's files and the shared environments.
    static func listing(_ data: String) throws -> [String] {
        let paths = FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String } ?? []
        return paths.filter { !$0.hasPrefix("logs") && !$0.hasPrefix("paddock.db") && !$0.hasPrefix("envs") }.sorted()
    }
}
