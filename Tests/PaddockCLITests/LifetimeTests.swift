import Foundation
import Glibc
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// No process of a plugin outlives the supervisor that started it, however
/// that supervisor ends; concurrent supervisors give their plugins uids of
/// their own.
@Suite(.serialized, .timeLimit(.minutes(3)), .enabled(if: geteuid() == 0, "plugins get uids of their own as root"))
struct LifetimeTests {
    /// A tool plugin whose tools leave processes behind the way an attacker would.
    static func lingeringPlugin() throws -> String {
        let directory = "/tmp/paddock-lifetime-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let manifest = """
            name: lingering
            author: tests
            version: "1.0.0"
            type: tool
            description: leaves processes behind
            runner: {language: python, entrypoint: main.py}
            resource: {workers: 2}
            tools:
              - provider: test
                items:
                  - {name: linger, parameters: [{name: marker, type: string, required: true}]}
                  - {name: hold, parameters: [{name: seconds, type: number, required: true}]}

            """
        // linger: a grandchild in a session of its own that clears its
        // parent-death signal; hold: forks until the process limit refuses.
        let code = """
            import ctypes, os, signal, subprocess, time
            from paddock_plugin import Plugin
            plugin = Plugin()

            @plugin.tool("linger")
            def linger(params, context):
                subprocess.Popen(["/bin/sleep", params["marker"]], start_new_session=True,
                                 preexec_fn=lambda: ctypes.CDLL(None).prctl(1, 0, 0, 0, 0))
                yield {"spawned": True}
                time.sleep(60)
                return {}

            @plugin.tool("hold")
            def hold(params, context):
                children = []
                try:
                    while True:
                        pid = os.fork()
                        if pid == 0:
                            time.sleep(60)
                            os._exit(0)
                        children.append(pid)
                except OSError:
                    pass
                yield {"held": len(children)}
                time.sleep(params["seconds"])
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                return {"held": len(children)}
            """
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: directory + "/manifest.yaml"))
        try Data(code.utf8).write(to: URL(fileURLWithPath: directory + "/main.py"))
        return directory
    }

    static func marker() -> String { "4\(UInt32.random(in: 100_000...999_999))" }

    /// Waits up to `limit` for the marked processes to be gone; the time it took, or nil.
    static func gone(_ marker: String, within limit: Duration) -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if HostProcesses.containing(marker).isEmpty { return ContinuousClock.now - start }
            usleep(20_000)
        }
        return nil
    }

    static func scratchDirectories() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("paddock-run-") })
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func aSignalToPaddockRunLeavesNothingBehind(signal: Int32) throws {
        let plugin = try Self.lingeringPlugin()
        defer { try? FileManager.default.removeItem(atPath: plugin) }
        let marker = Self.marker()
        let before = Self.scratchDirectories()
        let run = try Background(
            PaddockCLI.binary, ["run", plugin, "--tool", "linger", "--params", #"{"marker": "\#(marker)"}"#, "--stream"])
        defer { run.stop() }
        #expect(run.nextLine() == #"{"spawned":true}"#)
        #expect(!HostProcesses.containing(marker).isEmpty)
        kill(run.pid, signal)
        #expect(run.wait() == 128 + signal)
        #expect(Self.gone(marker, within: .seconds(2)) != nil, "a plugin process survived paddock run")
        #expect(Self.scratchDirectories() == before, "the scratch directory was left behind")
        #expect(Self.cgroups(of: run.pid).isEmpty, "cgroups left: \(Self.cgroups(of: run.pid))")
    }

    @Test func killingPaddockdLeavesNoPluginProcess() throws {
        let plugin = try Self.lingeringPlugin()
        defer { try? FileManager.default.removeItem(atPath: plugin) }
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", plugin).status == 0)
        #expect(try daemon.paddock("activate", "lingering").status == 0)
        let marker = Self.marker()
        let invoke = try Background(
            PaddockCLI.binary, ["invoke", "lingering", "linger", "--params", #"{"marker": "\#(marker)"}"#, "--stream", "--data", daemon.data])
        defer { invoke.stop() }
        #expect(invoke.nextLine() == #"{"spawned":true}"#)
        #expect(!HostProcesses.containing(marker).isEmpty)
        kill(daemon.process.pid, SIGKILL)
        let took = Self.gone(marker, within: .seconds(2))
        #expect(took != nil, "a plugin process survived kill -9 of paddockd")
    }

    @Test func twoRunsHoldingTheirWholeProcessLimitBothWork() throws {
        let plugin = try Self.lingeringPlugin()
        defer { try? FileManager.default.removeItem(atPath: plugin) }
        let first = try Background(PaddockCLI.binary, ["run", plugin, "--tool", "hold", "--params", #"{"seconds": 30}"#, "--stream"])
        defer { first.stop() }
        let held = try JSONValue(parsing: Array(first.nextLine().utf8))["held"]?.numberValue ?? 0
        #expect(held >= 40, "the first run held \(held) processes")
        let second = try PaddockCLI.run("run", plugin, "--tool", "hold", "--params", #"{"seconds": 0}"#)
        #expect(second.status == 0, "\(second.stderr)")
        let alsoHeld = try JSONValue(parsing: Array(second.stdout.utf8))["held"]?.numberValue ?? 0
        #expect(alsoHeld >= 40, "the second run held \(alsoHeld) processes")
    }

    /// Plugin cgroups created by the supervisor with this pid (named `<plugin>-<pid>-<n>`).
    static func cgroups(of supervisor: pid_t) -> [String] {
        guard let probe = try? Cgroup.create(name: "lifetime-probe-\(getpid())", memory: ByteSize(bytes: 64 << 20), processes: nil) else {
            return []
        }
        defer { try? probe.remove() }
        return probe.directories.flatMap { directory -> [String] in
            let parent = String(directory[..<directory.lastIndex(of: "/")!])
            let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            return names.filter { $0.contains("-\(supervisor)-") }.map { parent + "/" + $0 }
        }
    }
}
