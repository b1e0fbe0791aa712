import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Stopping a plugin that does not want to stop: it answers `shutdown` and
/// goes on, and blocks SIGTERM. Every way of stopping it returns within the
/// shutdown timeout plus a second, and leaves no process behind.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct StopTests {
    typealias RunningDaemon = DaemonTests.RunningDaemon
    /// paddockd's default shutdown timeout.
    static let shutdownTimeout = Duration.seconds(2)

    /// Installs and activates a hostile plugin; its uid and the pid of its process.
    static func activeHostile(_ daemon: RunningDaemon, startDelay: Double = 0) throws -> (id: String, uid: UInt32, pid: Int32) {
        let directory = try HostilePlugin.write(name: "stubborn", startDelaySeconds: startDelay)
        #expect(try daemon.paddock("install", directory).status == 0)
        let activated = try daemon.paddock("activate", "stubborn")
        #expect(activated.status == 0, "\(activated.stderr)")
        let status = try daemon.json("status", "stubborn", "--json")
        let uid = try #require(status["uid"].flatMap { if case .int(let n) = $0 { UInt32(n) } else { nil } })
        let pid = try #require(status["pid"].flatMap { if case .int(let n) = $0 { Int32(n) } else { nil } })
        #expect(HostProcesses.owned(by: uid).contains(String(pid)))
        return ("stubborn", uid, pid)
    }

    /// Runs `stop` and checks it took no longer than the shutdown timeout plus a second, and that nothing of the plugin is left.
    static func expectStopped(uid: UInt32, pid: Int32, by stop: () throws -> Void) rethrows {
        let started = ContinuousClock.now
        try stop()
        let took = started.duration(to: .now)
        #expect(took < shutdownTimeout + .seconds(1), "took \(took)")
        #expect(!DaemonTests.isRunning(pid), "the plugin's process is gone")
        #expect(HostProcesses.owned(by: uid).isEmpty, "no process of the plugin's uid is left: \(HostProcesses.owned(by: uid))")
    }

    @Test func deactivateKillsAPluginThatIgnoresShutdownAndSIGTERM() throws {
        let daemon = try RunningDaemon()
        let (id, uid, pid) = try Self.activeHostile(daemon)
        try Self.expectStopped(uid: uid, pid: pid) {
            let result = try daemon.paddock("deactivate", id)
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try daemon.json("status", id, "--json")["state"] == .string("stopped"))
        let log = try daemon.paddock("logs", id, "--tail", "50").stdout
        #expect(log.contains("shutdown received: ignored"), "the plugin was asked first:\n\(log)")
    }

    @Test func uninstallKillsAPluginThatIgnoresShutdownAndSIGTERM() throws {
        let daemon = try RunningDaemon()
        let (id, uid, pid) = try Self.activeHostile(daemon)
        try Self.expectStopped(uid: uid, pid: pid) {
            let result = try daemon.paddock("uninstall", id)
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try daemon.json("list", "--json") == .array([]))
    }

    @Test func sigtermToPaddockdKillsAPluginThatIgnoresShutdownAndSIGTERM() throws {
        let daemon = try RunningDaemon()
        let (_, uid, pid) = try Self.activeHostile(daemon)
        try Self.expectStopped(uid: uid, pid: pid) {
            kill(daemon.process.pid, SIGTERM)
            #expect(daemon.process.wait() == 0)
        }
    }

    @Test func deactivateWhileStartingNeverReachesRunningAndLeavesNoProcess() throws {
        let daemon = try RunningDaemon()
        let directory = try HostilePlugin.write(name: "slowstart", startDelaySeconds: 30)
        #expect(try daemon.paddock("install", directory).status == 0)
        let uid = try #require(try daemon.json("status", "slowstart", "--json")["uid"].flatMap { if case .int(let n) = $0 { UInt32(n) } else { nil } })
        let activation = try Background(PaddockCLI.binary, ["activate", "slowstart", "--data", daemon.data])
        defer { activation.stop() }
        // The plugin's own process exists: it is starting.
        while HostProcesses.owned(by: uid).isEmpty { usleep(10_000) }
        #expect(try daemon.json("status", "slowstart", "--json")["state"] == .string("starting"))
        let processes = HostProcesses.owned(by: uid)
        let started = ContinuousClock.now
        let result = try daemon.paddock("deactivate", "slowstart")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(started.duration(to: .now) < Self.shutdownTimeout + .seconds(1))
        #expect(activation.wait() != 0, "the activation learns it was stopped")
        #expect(try daemon.json("status", "slowstart", "--json")["state"] == .string("stopped"))
        #expect(HostProcesses.owned(by: uid).isEmpty, "left: \(HostProcesses.owned(by: uid)) of \(processes)")
        let log = try daemon.paddock("logs", "slowstart", "--tail", "50").stdout
        #expect(!log.contains("running as uid"), "it never ran:\n\(log)")
    }
}
