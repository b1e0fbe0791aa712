import Foundation
import Glibc
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// Real cgroups (v2 where it has the memory controller, else v1) with the launcher joining them.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CgroupTests {
    static let usable: Bool = {
        guard geteuid() == 0,
            let probe = try? Cgroup.create(name: "probe-\(getpid())", memory: ByteSize(bytes: 64 << 20), processes: 8)
        else { return false }
        try? probe.remove()
        return true
    }()

    @Test(.enabled(if: usable, "no writable cgroup memory controller (needs root and cgroup v1 memory or v2 with memory)"))
    func nativeOverrunUnderACgroupIsAnOOMKillClassified301() throws {
        let cgroup = try Cgroup.create(name: "test-oom-\(getpid())", memory: ByteSize(bytes: 64 << 20), processes: 16)
        defer { try? cgroup.remove() }
        let flags = ["--memory", String(64 << 20)] + cgroup.directories.flatMap { ["--cgroup", $0] }
        let result = try Sandbox.runProbe("alloc", "100", flags: flags)
        let counters = cgroup.counters()
        #expect(result.signal == SIGKILL, "\(result)")
        #expect(counters.oomKills >= 1 || counters.limitHits >= 1, "\(counters)")
        let error = Sandbox.classify(result, memoryLimit: 64 << 20, cgroup: counters)
        #expect(error?.code == .memoryLimitExceeded)
        #expect(error?.details["signal"] == "SIGKILL")
    }

    @Test(.enabled(if: usable, "no writable cgroup memory controller"))
    func pythonUnderACgroupWithinItsCapRuns() throws {
        let cgroup = try Cgroup.create(name: "test-ok-\(getpid())", memory: ByteSize(bytes: 96 << 20), processes: 16)
        defer { try? cgroup.remove() }
        let flags = ["--memory", String(96 << 20)] + cgroup.directories.flatMap { ["--cgroup", $0] }
        let result = try Sandbox.run(flags, [Sandbox.python, "-c", "print(len(bytearray(32 << 20)))"])
        #expect(result.status == 0, "\(result.stderr)")
        let counters = cgroup.counters()
        #expect(counters.oomKills == 0)
        #expect((counters.peak ?? 0) >= 32 << 20, "the plugin was charged to its cgroup: \(counters)")
        #expect(Sandbox.classify(result, memoryLimit: 96 << 20, cgroup: counters) == nil)
    }

    @Test(.enabled(if: usable, "no writable cgroup memory controller"))
    func forkBombIsContainedByThePidsLimit() throws {
        let cgroup = try Cgroup.create(name: "test-pids-\(getpid())", memory: ByteSize(bytes: 64 << 20), processes: 12)
        defer { try? cgroup.remove() }
        try #require(cgroup.pidsDirectory != nil, "no pids controller: only RLIMIT_NPROC contains a fork bomb here")
        let flags = cgroup.directories.flatMap { ["--cgroup", $0] }
        let result = try Sandbox.runProbe("forkbomb", "100000", flags: flags)
        let forked = Int(result.stdout.split(separator: " ").last?.dropLast() ?? "") ?? -1
        #expect((0..<12).contains(forked), "forked \(forked): \(result.stderr)")
    }

    @Test(.enabled(if: usable, "no writable cgroup memory controller"))
    func aCPUShareThrottlesEveryProcessTogether() throws {
        let cgroup = try Cgroup.create(name: "test-share-\(getpid())", memory: ByteSize(bytes: 256 << 20), processes: 16, cpuShare: 0.25)
        defer { try? cgroup.remove() }
        // Two processes spinning for 2 s of wall time would use 4 CPU-seconds on two free CPUs.
        let script = "import os, time\nos.fork()\nend = time.monotonic() + 2\nwhile time.monotonic() < end: pass\n"
        let result = try Sandbox.run(cgroup.directories.flatMap { ["--cgroup", $0] }, [Sandbox.python, "-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        let used = try #require(cgroup.cpuTime())
        #expect(used < .milliseconds(800), "a quarter of a CPU for 2 s, not \(used)")
        #expect(used > .milliseconds(200), "\(used)")
    }

    @Test(.enabled(if: usable, "no writable cgroup memory controller"))
    func removalKillsWhatIsLeftAndDeletesTheCgroup() throws {
        let cgroup = try Cgroup.create(name: "test-rm-\(getpid())", memory: ByteSize(bytes: 64 << 20), processes: 16)
        let flags = cgroup.directories.flatMap { ["--cgroup", $0] }
        let sleeper = try Background(Sandbox.launcher, ["--profile", Sandbox.profile("default")] + flags + ["--", try Sandbox.probe.get(), "sleep", "30"])
        defer { sleeper.stop() }
        #expect(sleeper.nextLine() == "2", "the plugin is the second process of its pid namespace")
        // The launcher, the namespace's init and the plugin.
        #expect(cgroup.processes().count == 3)
        try cgroup.remove()
        #expect(cgroup.directories.allSatisfy { access($0, F_OK) != 0 })
    }
}
