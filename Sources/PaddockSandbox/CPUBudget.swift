import Glibc
import PaddockCore

/// The CPU time of all of a plugin's processes together, from its cgroup:
/// `cpuacct.usage` (v1, nanoseconds) or `cpu.stat` `usage_usec` (v2).
/// RLIMIT_CPU counts one process at a time; forked children escape it.
struct CPUBudget {
    let usageFile: String
    let isV2: Bool
    let limit: Duration
    let processors: Int

    /// The budget for the cgroups the launcher joined; nil when none counts CPU time.
    init?(cgroups: [String], seconds: Int) {
        let candidates = cgroups.flatMap { [($0 + "/cpuacct.usage", false), ($0 + "/cpu.stat", true)] }
        guard let (file, isV2) = candidates.first(where: { access($0.0, R_OK) == 0 }) else { return nil }
        usageFile = file
        self.isV2 = isV2
        limit = .seconds(seconds)
        processors = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// CPU time used so far.
    func used() -> Duration? {
        guard let bytes = try? FileSystem.read(usageFile, limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        if !isV2 { return Int(text.split(separator: "\n").first ?? "").map { .nanoseconds($0) } }
        for line in text.split(separator: "\n") where line.hasPrefix("usage_usec ") {
            return Int(line.dropFirst("usage_usec ".count)).map { .microseconds($0) }
        }
        return nil
    }

    /// How long to wait before the budget could be spent at the earliest
    /// (every processor busy), bounded to [10 ms, 1 s]; nil when it is spent.
    func nextCheck() -> Duration? {
        guard let used = used() else { return .seconds(1) }
        let remaining = limit - used
        guard remaining > .zero else { return nil }
        return min(max(remaining / processors, .milliseconds(10)), .seconds(1))
    }
}
