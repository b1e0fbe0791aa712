public import PaddockCore

/// A sandbox profile from `sandbox-profiles/*.yaml`: the seccomp filter,
/// resource limits, filesystem rules and environment a plugin runs under.
/// The format is documented in `sandbox-profiles/README.md`.
public struct SandboxProfile: Sendable, Equatable {
    public var name: String
    public var seccomp: SeccompPolicy
    /// Rules added to the seccomp filter when network access is allowed.
    public var networkRules: [SyscallCondition]
    /// True when the profile itself allows network access (`network.yaml`).
    public var allowsNetwork: Bool
    public var limits: ResourceLimits
    /// Paths the plugin may read (and execute) below.
    public var readable: [String]
    /// Paths the plugin may read and write below.
    public var writable: [String]
    /// The plugin's whole environment: nothing else of the caller's reaches it.
    public var environment: [String: String]
    /// Whether running without Landlock is an error or a reported fallback.
    public var landlock: Requirement

    public init(
        name: String,
        seccomp: SeccompPolicy,
        networkRules: [SyscallCondition] = [],
        allowsNetwork: Bool = false,
        limits: ResourceLimits = ResourceLimits(),
        readable: [String] = [],
        writable: [String] = [],
        environment: [String: String] = [:],
        landlock: Requirement = .preferred
    ) {
        self.name = name
        self.seccomp = seccomp
        self.networkRules = networkRules
        self.allowsNetwork = allowsNetwork
        self.limits = limits
        self.readable = readable
        self.writable = writable
        self.environment = environment
        self.landlock = landlock
    }

    /// How strictly a kernel feature is needed.
    public enum Requirement: String, CaseIterable, Sendable {
        /// Missing support is an error: the plugin does not start.
        case required
        /// Missing support is reported on stderr and the plugin starts without it.
        case preferred
    }
}

/// The seccomp part of a profile.
public struct SeccompPolicy: Sendable, Equatable {
    /// What happens on a system call no rule names.
    public var defaultAction: SeccompAction
    /// System calls allowed with any arguments.
    public var allow: [String]
    /// System calls allowed only when an argument matches.
    public var conditional: [SyscallCondition]
    /// System calls with an action of their own (kill, or a specific errno).
    public var actions: [String: SeccompAction]

    public init(
        defaultAction: SeccompAction,
        allow: [String] = [],
        conditional: [SyscallCondition] = [],
        actions: [String: SeccompAction] = [:]
    ) {
        self.defaultAction = defaultAction
        self.allow = allow
        self.conditional = conditional
        self.actions = actions
    }
}

/// What seccomp does with a system call.
public enum SeccompAction: Sendable, Equatable, CustomStringConvertible {
    case allow
    /// Fail the call with this errno.
    case errno(Int32)
    /// Kill the whole process with SIGSYS.
    case kill

    public var description: String {
        switch self {
        case .allow: "allow"
        case .errno(let number): "errno \(SandboxConstants.errnoName(number) ?? String(number))"
        case .kill: "kill"
        }
    }
}

/// A system call allowed only when one argument compares true with one of
/// `values` (each value is its own rule; rules for one call are alternatives).
public struct SyscallCondition: Sendable, Equatable {
    public enum Operator: String, CaseIterable, Sendable {
        case eq, ne, lt, le, gt, ge
        /// `(argument & mask) == value`.
        case maskedEq = "masked_eq"
    }

    public var syscall: String
    public var argument: Int
    public var op: Operator
    public var values: [UInt64]
    public var mask: UInt64

    public init(syscall: String, argument: Int, op: Operator = .eq, values: [UInt64], mask: UInt64 = 0) {
        self.syscall = syscall
        self.argument = argument
        self.op = op
        self.values = values
        self.mask = mask
    }
}

/// The rlimits of a plugin, and the memory cap they are derived from.
public struct ResourceLimits: Sendable, Equatable {
    /// The memory cap: a cgroup limit where one is given, and the base of
    /// RLIMIT_AS and RLIMIT_DATA.
    public var memory: ByteSize
    /// Added to the memory cap for RLIMIT_AS and RLIMIT_DATA: runtimes
    /// reserve address space (thread stacks, malloc arenas) they never touch.
    public var memoryHeadroom: ByteSize
    public var fileSize: ByteSize
    public var cpuSeconds: Int
    public var openFiles: Int
    public var processes: Int
    public var stack: ByteSize
    /// The size of the plugin's writable filesystem: its data directory,
    /// `/tmp` and `/dev/shm` share it.
    public var disk: ByteSize
    /// How many files and directories that filesystem holds at most.
    public var diskFiles: Int

    public init(
        memory: ByteSize = ByteSize(bytes: 256 << 20),
        memoryHeadroom: ByteSize = ByteSize(bytes: 64 << 20),
        fileSize: ByteSize = ByteSize(bytes: 64 << 20),
        cpuSeconds: Int = 300,
        openFiles: Int = 256,
        processes: Int = 64,
        stack: ByteSize = ByteSize(bytes: 8 << 20),
        disk: ByteSize = ByteSize(bytes: 64 << 20),
        diskFiles: Int = 4096
    ) {
        self.memory = memory
        self.memoryHeadroom = memoryHeadroom
        self.fileSize = fileSize
        self.cpuSeconds = cpuSeconds
        self.openFiles = openFiles
        self.processes = processes
        self.stack = stack
        self.disk = disk
        self.diskFiles = diskFiles
    }

    /// RLIMIT_AS and RLIMIT_DATA: the cap plus headroom.
    public var addressSpace: Int { memory.bytes + memoryHeadroom.bytes }
}
