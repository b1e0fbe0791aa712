import Glibc
import PaddockCore
import PaddockSandbox
import Testing

/// Classification from synthetic wait statuses and evidence.
@Suite struct DeathClassifierTests {
    private func signaled(_ signal: Int32) -> Int32 { signal }
    private func exited(_ status: Int32) -> Int32 { status << 8 }

    @Test(arguments: [(SIGXFSZ, 302), (SIGXCPU, 303), (SIGSYS, 304), (SIGSEGV, 305), (SIGKILL, 305), (SIGABRT, 305)])
    func signalsMapToTheCatalog(signal: Int32, code: Int) {
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: signaled(signal)))
        #expect(error?.code.rawValue == code)
        #expect(error?.details["signal"] == DeathClassifier.signalName(signal))
    }

    @Test func cleanExitIsNotADeath() {
        #expect(DeathClassifier.classify(DeathEvidence(waitStatus: exited(0))) == nil)
    }

    @Test func unexpectedExitIs305() {
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: exited(3), report: "Traceback: KeyError"))
        #expect(error?.code == .pluginCrashed)
        #expect(error?.details["exit_status"] == "3")
    }

    @Test func oomKillInTheCgroupIs301() {
        let counters = Cgroup.Counters(limit: 64 << 20, current: 0, peak: 64 << 20, oomKills: 1, limitHits: 9)
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: signaled(SIGKILL), memoryLimit: 64 << 20, cgroup: counters))
        #expect(error?.code == .memoryLimitExceeded)
        #expect(error?.details["cgroup_oom_kills"] == "1")
        #expect(error?.details["memory_limit_bytes"] == String(64 << 20))
    }

    @Test func killWithoutMemoryEvidenceIs305() {
        let counters = Cgroup.Counters(limit: 64 << 20, current: 0, peak: 10 << 20, oomKills: 0, limitHits: 0)
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: signaled(SIGKILL), memoryLimit: 64 << 20, cgroup: counters))
        #expect(error?.code == .pluginCrashed)
    }

    @Test func residentSizeAloneDoesNotOutweighACgroupThatSawNoOverrun() {
        // A big mapped binary inflates ru_maxrss; the cgroup's counters know better.
        let counters = Cgroup.Counters(limit: 64 << 20, current: 0, peak: 8 << 20, oomKills: 0, limitHits: 0)
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: signaled(SIGKILL), maxResidentBytes: 64 << 20, memoryLimit: 64 << 20, cgroup: counters))
        #expect(error?.code == .pluginCrashed)
    }

    @Test func peakAtTheCapIs301() {
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: signaled(SIGKILL), maxResidentBytes: 64 << 20, memoryLimit: 64 << 20))
        #expect(error?.code == .memoryLimitExceeded)
    }

    @Test(arguments: [
        ("MemoryError", 301), ("std::bad_alloc", 301), ("malloc: Cannot allocate memory", 301),
        ("OSError: [Errno 27] File too large", 302), ("OSError: [Errno 28] No space left on device", 302),
        ("seccomp denied socket", 304),
    ])
    func reportedFailuresMapToTheCatalog(report: String, code: Int) {
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: exited(1), report: report))
        #expect(error?.code.rawValue == code)
    }

    @Test func launcherFailureCarriesTheLaunchersCode() {
        let report = "paddock-sandbox: error 105: program 'x' not found or not executable\n"
        let error = DeathClassifier.classify(DeathEvidence(waitStatus: exited(LaunchStep.program.exitStatus), report: report))
        #expect(error?.code == .dependencyUnavailable)
        #expect(error?.message.contains("program 'x' not found") == true)
    }
}
