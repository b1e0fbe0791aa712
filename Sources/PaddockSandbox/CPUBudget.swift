import Glibc
import PaddockCore

/// The CPU time of all of a plugin's processes together, from its cgroup.
/// RLIMIT_CPU counts one process at a time; forked children escape it.
struct CPUBudget {
    let cgroups: [String]
    let limit: Duration
    let processors: Int

    /// The budget for the cgroups the launcher joined; nil when none counts CPU time.
    init?(cgroups: [String], seconds: Int) {
        guard Cgroup.cpuTime(in: cgroups) != nil else { return nil }
        self.cgroups = cgroups
        limit = .seconds(seconds)
        processors = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// How long to wait before the budget could be spent at the earliest
    /// (every processor busy), bounded to [10 ms, 1 s]; nil when it is spent.
    func nextCheck() -> Duration? {
        guard let used = Cgroup.cpuTime(in: cgroups) else { return .seconds(1) }
        let remaining = limit - used
        guard remaining > .zero else { return nil }
        return min(max(remaining / processors, .milliseconds(10)), .seconds(1))
    }
}
