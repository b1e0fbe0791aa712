import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// An operator can always get paddockd back: `--safe` starts no plugin and
/// leaves the active ones inactive, and a daemon that keeps dying before
/// it settles starts safe by itself.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SafeModeTests {
    private func state(_ daemon: DaemonTests.RunningDaemon, _ id: String) throws -> JSONValue? {
        try daemon.json("status", id, "--json")["state"]
    }

    @Test func safeModeStartsNoPluginAndLeavesTheActiveOnesInactive() throws {
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", DaemonTests.textTools).status == 0)
        #expect(try daemon.json("activate", "text-tools")["state"] == "running")
        daemon.process.stop()

        let safe = try DaemonTests.RunningDaemon.start(daemon.data, ["--safe"], errors: daemon.data + "/safe.err")
        #expect(try state(daemon, "text-tools") != "running")
        #expect(try daemon.json("list", "--json").arrayValue?.first?["lifecycle"] == "inactive")
        #expect(try daemon.paddock("invoke", "text-tools", "word_count", "--params", #"{"text": "a"}"#).status != 0)
        kill(safe.pid, SIGTERM)
        _ = safe.wait()
        let log = (try? String(contentsOfFile: daemon.data + "/safe.err", encoding: .utf8)) ?? ""
        #expect(log.contains("safe mode") && log.contains("text-tools"), "\(log)")

        // Back to normal: the plugin stays off until the operator activates it.
        try daemon.restart()
        #expect(try state(daemon, "text-tools") != "running")
        #expect(try daemon.json("activate", "text-tools")["state"] == "running")
    }

    @Test func aDaemonThatKeepsDyingBeforeItSettlesStartsSafeByItself() throws {
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", DaemonTests.textTools).status == 0)
        #expect(try daemon.json("activate", "text-tools")["state"] == "running")
        for _ in 0..<3 {
            kill(daemon.process.pid, SIGKILL)
            _ = daemon.process.wait()
            try daemon.restart()
        }
        // The fourth start in a row without a clean stop: safe.
        #expect(try state(daemon, "text-tools") != "running")
        #expect(try daemon.json("list", "--json").arrayValue?.first?["lifecycle"] == "inactive")
        // A clean stop settles it: the next start is a normal one.
        kill(daemon.process.pid, SIGTERM)
        _ = daemon.process.wait()
        try daemon.restart()
        #expect(try daemon.json("activate", "text-tools")["state"] == "running")
        kill(daemon.process.pid, SIGTERM)
        _ = daemon.process.wait()
        try daemon.restart()
        // Restored in the background: wait for it to come back.
        var restored = try state(daemon, "text-tools")
        for _ in 0..<200 where restored != "running" {
            usleep(50_000)
            restored = try state(daemon, "text-tools")
        }
        #expect(restored == "running")
    }
}
