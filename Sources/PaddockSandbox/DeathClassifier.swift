import Glibc
public import PaddockCore

/// What is known about a plugin process that ended.
public struct DeathEvidence: Sendable {
    /// The raw status from `waitpid`/`wait4`.
    public var waitStatus: Int32
    /// The peak resident size from `wait4`'s rusage, in bytes.
    public var maxResidentBytes: Int?
    /// The memory cap the plugin ran under, in bytes.
    public var memoryLimit: Int?
    /// The plugin's cgroup counters, read after its death.
    public var cgroup: Cgroup.Counters?
    /// What the plugin said before dying: the error its SDK reported, or
    /// the tail of its stderr.
    public var report: String?

    public init(
        waitStatus: Int32,
        maxResidentBytes: Int? = nil,
        memoryLimit: Int? = nil,
        cgroup: Cgroup.Counters? = nil,
        report: String? = nil
    ) {
        self.waitStatus = waitStatus
        self.maxResidentBytes = maxResidentBytes
        self.memoryLimit = memoryLimit
        self.cgroup = cgroup
        self.report = report
    }

    /// The exit status, when the process exited.
    public var exitStatus: Int32? { waitStatus & 0x7f == 0 ? (waitStatus >> 8) & 0xff : nil }
    /// The signal that ended the process, when one did.
    public var signal: Int32? {
        let signal = waitStatus & 0x7f
        return signal != 0 && signal != 0x7f ? signal : nil
    }
}

/// Turns the end of a plugin process into a catalog code: memory cap → 301,
/// file-size limit or a reported EFBIG/ENOSPC → 302, CPU limit → 303,
/// forbidden system call → 304, any other abnormal end → 305.
public enum DeathClassifier {
    /// Classifies a death; nil for a clean exit (status 0).
    public static func classify(_ evidence: DeathEvidence) -> PaddockError? {
        var details: [String: String] = [:]
        if let status = evidence.exitStatus { details["exit_status"] = String(status) }
        if let signal = evidence.signal { details["signal"] = signalName(signal) }
        if let rss = evidence.maxResidentBytes { details["max_rss_bytes"] = String(rss) }
        if let limit = evidence.memoryLimit { details["memory_limit_bytes"] = String(limit) }
        if let counters = evidence.cgroup {
            if let peak = counters.peak { details["cgroup_peak_bytes"] = String(peak) }
            details["cgroup_oom_kills"] = String(counters.oomKills)
        }
        let report = evidence.report ?? ""
        func error(_ code: PaddockError.Code, _ message: String) -> PaddockError {
            PaddockError(code, message, details: details)
        }

        if let status = evidence.exitStatus, LaunchStep(rawValue: status) != nil,
            let launcherError = launcherError(in: report)
        {
            return error(launcherError.code, "the sandbox launcher failed: \(launcherError.message)")
        }
        switch evidence.signal {
        case SIGXFSZ: return error(.fileLimitExceeded, "the plugin exceeded its file-size limit (SIGXFSZ)")
        case SIGXCPU: return error(.cpuLimitExceeded, "the plugin exceeded its CPU-time limit (SIGXCPU)")
        case SIGSYS: return error(.sandboxViolation, "the plugin made a forbidden system call (SIGSYS)")
        default: break
        }
        if evidence.exitStatus == 0 { return nil }
        if let memory = memoryEvidence(evidence) {
            return error(.memoryLimitExceeded, "the plugin exceeded its memory limit (\(memory))")
        }
        if let file = matches(report, ["File too large", "EFBIG", "No space left on device", "ENOSPC", "Disk quota exceeded"]) {
            return error(.fileLimitExceeded, "the plugin hit a file limit (reported \(file))")
        }
        if let denial = matches(report, ["seccomp", "Bad system call"]) {
            return error(.sandboxViolation, "the plugin reported a sandbox denial (\(denial))")
        }
        if let signal = evidence.signal {
            return error(.pluginCrashed, "the plugin was killed by \(signalName(signal))")
        }
        return error(.pluginCrashed, "the plugin exited unexpectedly with status \(evidence.exitStatus ?? -1)")
    }

    /// Why a death counts as a memory overrun, if it does.
    private static func memoryEvidence(_ evidence: DeathEvidence) -> String? {
        if let counters = evidence.cgroup {
            if counters.oomKills > 0 { return "cgroup OOM kill" }
            if let peak = counters.peak, let limit = counters.limit, peak >= limit - 4096 { return "cgroup peak at the cap" }
        } else if let rss = evidence.maxResidentBytes, let limit = evidence.memoryLimit, rss >= limit - limit / 64 {
            // Without a cgroup, the peak resident size is the only measure; it
            // also counts mapped files (a large binary), so the cgroup's
            // counters are preferred whenever there are any.
            return "peak usage at the cap"
        }
        let reported = [
            "MemoryError", "Cannot allocate memory", "Could not allocate memory", "out of memory", "Out of memory", "bad_alloc",
            "ENOMEM",
        ]
        return matches(evidence.report ?? "", reported).map { "reported \($0)" }
    }

    private static func matches(_ text: String, _ needles: [String]) -> String? {
        needles.first { text.contains($0) }
    }

    /// The coded error a launcher printed: `paddock-sandbox: error 105: ...`.
    private static func launcherError(in report: String) -> PaddockError? {
        for line in report.split(separator: "\n") {
            guard let start = line.firstRange(of: "paddock-sandbox: error ") else { continue }
            let rest = line[start.upperBound...]
            guard let code = Int(rest.prefix(3)).flatMap(PaddockError.Code.init(rawValue:)) else { continue }
            return PaddockError(code, String(rest.dropFirst(5)))
        }
        return nil
    }

    /// `SIGKILL` for 9.
    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV",
            SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ",
            SIGSYS: "SIGSYS",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
