import Glibc
public import PaddockCore

/// A plugin's cgroup, created and removed by the supervisor side: a memory
/// limit that makes an overrun certain to detect, and a pids limit where
/// that controller exists. cgroup v2 where it has the memory controller,
/// otherwise v1's `memory` (and `pids`) hierarchies.
public struct Cgroup: Sendable, Equatable {
    public enum Version: String, Sendable { case v1, v2 }

    public let version: Version
    /// Where the memory controller's files are.
    public let memoryDirectory: String
    /// Where the pids controller's files are; the same as memory on v2.
    public let pidsDirectory: String?
    /// Where CPU time is counted (v1 `cpuacct`) and throttled (v1 `cpu`); the same as memory on v2.
    public var cpuDirectories: [String] = []

    public init(version: Version, memoryDirectory: String, pidsDirectory: String?, cpuDirectories: [String] = []) {
        self.version = version
        self.memoryDirectory = memoryDirectory
        self.pidsDirectory = pidsDirectory
        self.cpuDirectories = cpuDirectories
    }

    /// The directories the plugin must join (`paddock-sandbox --cgroup`), each once.
    public var directories: [String] {
        var all: [String] = []
        for directory in [memoryDirectory] + (pidsDirectory.map { [$0] } ?? []) + cpuDirectories where !all.contains(directory) {
            all.append(directory)
        }
        return all
    }

    /// Creates `paddock/<name>` below this process's own cgroup, with the
    /// memory cap (swap included) and, where possible, a process cap, CPU
    /// accounting for the CPU budget of all the plugin's processes, and a
    /// CPU quota of `cpuShare` CPUs when one is given.
    /// - Throws: ``PaddockError`` 105 when no memory controller can be used.
    public static func create(name: String, memory: ByteSize, processes: Int?, cpuShare: Double? = nil) throws(PaddockError) -> Cgroup {
        let hierarchy = CgroupHierarchy.current()
        // The CPU quota: `share` of a 100 ms period.
        let quota = cpuShare.map { String(max(1000, Int($0 * 100_000))) }
        if let parent = hierarchy.v2MemoryParent {
            let directory = try makeDirectory(parent + "/paddock/" + name)
            try write(String(memory.bytes), to: directory + "/memory.max")
            try? write("0", to: directory + "/memory.swap.max")
            if let processes { try? write(String(processes), to: directory + "/pids.max") }
            if let quota { try write(quota + " 100000", to: directory + "/cpu.max") }
            return Cgroup(version: .v2, memoryDirectory: directory, pidsDirectory: directory, cpuDirectories: [directory])
        }
        guard let memoryParent = hierarchy.v1Parent(for: "memory") else {
            throw PaddockError(.dependencyUnavailable, "no cgroup memory controller is mounted and writable")
        }
        let directory = try makeDirectory(memoryParent + "/paddock/" + name)
        try write(String(memory.bytes), to: directory + "/memory.limit_in_bytes")
        try? write(String(memory.bytes), to: directory + "/memory.memsw.limit_in_bytes")
        var pids: String?
        if let processes, let pidsParent = hierarchy.v1Parent(for: "pids") {
            pids = try? makeDirectory(pidsParent + "/paddock/" + name)
            if let pids { try? write(String(processes), to: pids + "/pids.max") }
        }
        var cpu: [String] = []
        if let accounting = hierarchy.v1Parent(for: "cpuacct"), let made = try? makeDirectory(accounting + "/paddock/" + name) {
            cpu.append(made)
        }
        if let quota {
            guard let throttling = hierarchy.v1Parent(for: "cpu") else {
                throw PaddockError(.dependencyUnavailable, "resource.cpu needs the cgroup cpu controller, which is not mounted")
            }
            let made = try makeDirectory(throttling + "/paddock/" + name)
            try write("100000", to: made + "/cpu.cfs_period_us")
            try write(quota, to: made + "/cpu.cfs_quota_us")
            cpu.append(made)
        }
        return Cgroup(version: .v1, memoryDirectory: directory, pidsDirectory: pids, cpuDirectories: cpu)
    }

    /// What the kernel counted for the cgroup.
    public struct Counters: Sendable, Equatable {
        public var limit: Int?
        public var current: Int?
        /// The highest usage seen, where the kernel keeps it.
        public var peak: Int?
        /// Processes the OOM killer killed in the cgroup.
        public var oomKills: Int
        /// Times usage reached the limit.
        public var limitHits: Int

        public init(limit: Int?, current: Int?, peak: Int?, oomKills: Int, limitHits: Int) {
            self.limit = limit
            self.current = current
            self.peak = peak
            self.oomKills = oomKills
            self.limitHits = limitHits
        }
    }

    /// Reads the memory counters.
    public func counters() -> Counters {
        switch version {
        case .v2:
            let events = Self.keyed(memoryDirectory + "/memory.events")
            return Counters(
                limit: Self.number(memoryDirectory + "/memory.max"),
                current: Self.number(memoryDirectory + "/memory.current"),
                peak: Self.number(memoryDirectory + "/memory.peak"),
                oomKills: events["oom_kill"] ?? 0,
                limitHits: events["max"] ?? 0
            )
        case .v1:
            return Counters(
                limit: Self.number(memoryDirectory + "/memory.limit_in_bytes"),
                current: Self.number(memoryDirectory + "/memory.usage_in_bytes"),
                peak: Self.number(memoryDirectory + "/memory.max_usage_in_bytes"),
                oomKills: Self.keyed(memoryDirectory + "/memory.oom_control")["oom_kill"] ?? 0,
                limitHits: Self.number(memoryDirectory + "/memory.failcnt") ?? 0
            )
        }
    }

    /// The CPU time its processes have used together.
    public func cpuTime() -> Duration? { Self.cpuTime(in: directories) }

    /// The CPU time counted in the first of `directories` that counts it:
    /// `cpuacct.usage` (v1, nanoseconds) or `cpu.stat` `usage_usec` (v2).
    static func cpuTime(in directories: [String]) -> Duration? {
        for directory in directories {
            if let nanoseconds = number(directory + "/cpuacct.usage") { return .nanoseconds(nanoseconds) }
            if let usage = keyed(directory + "/cpu.stat")["usage_usec"] { return .microseconds(usage) }
        }
        return nil
    }

    /// The processes in the cgroup (host pids, each once).
    public func processes() -> [Int32] {
        let all = directories.flatMap { directory in
            ((try? FileSystem.read(directory + "/cgroup.procs", limit: 1 << 20)) ?? [])
                .split(separator: UInt8(ascii: "\n")).compactMap { Int32(String(decoding: $0, as: UTF8.self)) }
        }
        return Array(Set(all)).sorted()
    }

    /// Kills every process in the cgroup and removes it.
    /// - Throws: ``PaddockError`` 302 when a directory cannot be removed.
    public func remove() throws(PaddockError) {
        for _ in 0..<200 {
            let remaining = processes()
            if remaining.isEmpty { break }
            for pid in remaining { kill(pid, SIGKILL) }
            usleep(5_000)
        }
        for directory in directories.reversed() where rmdir(directory) != 0 && errno != ENOENT {
            throw PaddockError(.fileLimitExceeded, "cannot remove cgroup \(directory): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `text` to a cgroup control file.
    /// - Throws: ``PaddockError`` 302 naming the file and the reason.
    static func write(_ text: String, to path: String) throws(PaddockError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PaddockError(.fileLimitExceeded, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        guard written >= 0 else { throw PaddockError(.fileLimitExceeded, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    private static func makeDirectory(_ path: String) throws(PaddockError) -> String {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw PaddockError(.dependencyUnavailable, "cannot create cgroup \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        return path
    }

    private static func text(_ path: String) -> String? {
        (try? FileSystem.read(path, limit: 64 << 10)).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func number(_ path: String) -> Int? {
        text(path).flatMap { Int($0.split(separator: "\n").first ?? "") }
    }

    /// A file of `key value` lines.
    private static func keyed(_ path: String) -> [String: Int] {
        var values: [String: Int] = [:]
        for line in (text(path) ?? "").split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let value = Int(words[1]) { values[String(words[0])] = value }
        }
        return values
    }
}

extension Cgroup {
    /// Removes the plugin cgroups of supervisors that are gone (a previous
    /// `paddockd` killed with SIGKILL), or those of `owner` (a supervisor
    /// that is stopping): kills what is left in them and deletes them. A
    /// cgroup is named `<plugin>-<supervisor pid>-<n>`.
    public static func removeLeftovers(of owner: Int32? = nil) {
        let hierarchy = CgroupHierarchy.current()
        var parents = Set(["memory", "pids", "cpuacct", "cpu"].compactMap { hierarchy.v1Parent(for: $0) })
        if let mount = hierarchy.v2Mount, let path = hierarchy.v2Path { parents.insert(mount + (path == "/" ? "" : path)) }
        for parent in parents {
            let directory = parent + "/paddock"
            guard let entries = try? FileSystem.directoryEntries(directory) else { continue }
            for name in entries {
                let parts = name.split(separator: "-")
                guard parts.count >= 3, let creator = Int32(parts[parts.count - 2]) else { continue }
                if let owner { guard creator == owner else { continue } } else { guard kill(creator, 0) != 0, errno == ESRCH else { continue } }
                let leftover = Cgroup(version: .v1, memoryDirectory: directory + "/" + name, pidsDirectory: nil)
                try? leftover.remove()
            }
        }
    }
}
