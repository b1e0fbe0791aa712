import Glibc
import PaddockCore

/// Sets the rlimits of a policy on the calling process.
enum ResourceLimiter {
    /// - Throws: ``PaddockError`` 304 when a limit cannot be set.
    /// - Parameter cgroupEnforcesMemory: a cgroup holds the exact memory cap,
    ///   so RLIMIT_AS and RLIMIT_DATA are only a backstop and get 1 GiB more
    ///   room: multithreaded native runtimes reserve far more address space
    ///   (thread stacks, malloc arenas, their own mapped image) than they use.
    static func apply(_ limits: ResourceLimits, cgroupEnforcesMemory: Bool) throws(PaddockError) {
        let address = UInt(limits.addressSpace + (cgroupEnforcesMemory ? 1 << 30 : 0))
        try set(.addressSpace, address)
        try set(.data, address)
        try set(.fileSize, UInt(limits.fileSize.bytes))
        // SIGXCPU at the soft limit; the hard limit one second later is SIGKILL.
        try set(.cpu, UInt(limits.cpuSeconds), hard: UInt(limits.cpuSeconds) + 1)
        try set(.openFiles, UInt(limits.openFiles))
        try set(.processes, UInt(limits.processes))
        try set(.stack, UInt(limits.stack.bytes))
        try set(.core, 0)
    }

    /// The rlimit resources (sys/resource.h; glibc hides some from Swift).
    private enum Resource: Int32 {
        case cpu = 0, fileSize = 1, data = 2, stack = 3, core = 4, processes = 6, openFiles = 7, addressSpace = 9
    }

    private static func set(_ resource: Resource, _ soft: UInt, hard: UInt? = nil) throws(PaddockError) {
        var current = rlimit()
        getrlimit(resource.rawValue, &current)
        // Without privileges a hard limit can only go down.
        let ceiling = geteuid() == 0 ? UInt.max : current.rlim_max
        var limit = rlimit(rlim_cur: min(soft, ceiling), rlim_max: min(hard ?? soft, ceiling))
        guard setrlimit(resource.rawValue, &limit) == 0 else {
            throw PaddockError(.sandboxViolation, "setrlimit(\(resource)) failed: \(String(cString: strerror(errno)))")
        }
    }
}
