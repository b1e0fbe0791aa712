import CLinux
import Glibc
import PaddockCore

/// What `paddock-sandbox` does: apply every restriction of a policy to this
/// fresh, single-threaded process, then exec the plugin.
public enum Launcher {
    /// Runs the launcher; returns only by failing.
    public static func run(_ arguments: LauncherArguments) -> LaunchFailure {
        do {
            try launch(arguments)
        } catch {
            return error
        }
    }

    private static func launch(_ arguments: LauncherArguments) throws(LaunchFailure) -> Never {
        try step(.descriptors) { () throws(PaddockError) in try closeInheritedDescriptors(keeping: arguments.overrides.keptDescriptors) }
        let profile = try step(.profile) { () throws(PaddockError) in try SandboxProfile.load(path: arguments.profilePath) }
        let policy = SandboxPolicy(profile: profile, overrides: arguments.overrides)
        // Compiled now, while still privileged enough to use the cache; installed last.
        let filter = try step(.seccomp) { () throws(PaddockError) in try SeccompFilter(policy.seccomp, cache: SeccompCache()) }
        let environment = Environment(policy.profile.environment)
        let program = try step(.program) { () throws(PaddockError) in
            if let directory = arguments.directory, chdir(directory) != 0 {
                throw PaddockError(.configurationMissing, "--chdir \(directory): \(String(cString: strerror(errno)))")
            }
            return try environment.resolve(arguments.program)
        }
        _ = setsid()  // Fails only when already a session leader, which is as good.
        resetSignals()
        try step(.cgroup) { () throws(PaddockError) in try join(policy.cgroups) }
        try step(.limits) { () throws(PaddockError) in try ResourceLimiter.apply(policy.limits, cgroupEnforcesMemory: !policy.cgroups.isEmpty) }
        let privateNetwork = try step(.namespace) { () throws(PaddockError) in try isolateNetwork(policy) }
        let parent = getppid()
        let credentials = try step(.credentials) { () throws(PaddockError) in try dropPrivileges(policy.credentials) }
        if policy.dieWithParent {
            _ = paddock_set_parent_death_signal(SIGKILL)
            if getppid() != parent { _exit(LaunchStep.credentials.exitStatus) }  // the parent is already gone
        }
        try step(.noNewPrivileges) { () throws(PaddockError) in
            guard paddock_set_no_new_privs() == 0 else { throw PaddockError(.sandboxViolation, "PR_SET_NO_NEW_PRIVS failed") }
        }
        let landlock = try step(.landlock) { () throws(PaddockError) in
            try Landlock.apply(readable: policy.profile.readable, writable: policy.profile.writable, executable: program, allowNetwork: policy.allowNetwork)
        }
        try step(.landlock) { () throws(PaddockError) in try checkFallbacks(landlock, requirement: policy.profile.landlock) }
        if arguments.report {
            report(landlock: landlock, privateNetwork: privateNetwork, credentials: credentials, policy: policy)
        }
        try step(.seccomp) { () throws(PaddockError) in try filter.install() }
        let error = environment.exec(program, arguments: [arguments.program] + arguments.programArguments)
        throw LaunchFailure(.exec, error)
    }

    private static func step<T>(_ step: LaunchStep, _ body: () throws(PaddockError) -> T) throws(LaunchFailure) -> T {
        do {
            return try body()
        } catch {
            throw LaunchFailure(step, error)
        }
    }

    /// Closes every descriptor but 0, 1, 2 and the kept ones, which lose
    /// close-on-exec so that the plugin inherits them.
    static func closeInheritedDescriptors(keeping kept: [Int32]) throws(PaddockError) {
        var next: UInt32 = 3
        for fd in Set(kept).sorted() where fd >= 3 {
            guard fcntl(fd, F_SETFD, 0) == 0 else {
                throw PaddockError(.configurationMissing, "--keep-fd \(fd): descriptor \(fd) is not open")
            }
            if UInt32(fd) > next { _ = paddock_close_range(next, UInt32(fd) - 1) }
            next = UInt32(fd) + 1
        }
        guard paddock_close_range(next, UInt32.max) == 0 else {
            throw PaddockError(.sandboxViolation, "close_range failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Gives the plugin default signal handling and an empty signal mask:
    /// ignored signals survive exec, and a caller that ignores SIGXFSZ or
    /// SIGXCPU would otherwise hide the limits that raise them.
    private static func resetSignals() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_DFL
        for signal in 1..<Int32(65) where signal != SIGKILL && signal != SIGSTOP {
            sigaction(signal, &action, nil)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
    }

    /// Moves this process into each cgroup (its `cgroup.procs`).
    private static func join(_ cgroups: [String]) throws(PaddockError) {
        for directory in cgroups {
            try Cgroup.write(String(getpid()), to: directory + "/cgroup.procs")
        }
    }

    /// Gives the process a network namespace of its own (only loopback) when
    /// network is not allowed and the kernel lets it.
    /// - Returns: whether the namespace is private.
    private static func isolateNetwork(_ policy: SandboxPolicy) throws(PaddockError) -> Bool {
        guard !policy.allowNetwork, geteuid() == 0 else { return false }
        return paddock_unshare(paddock_clone_newnet()) == 0
    }

    /// Switches to the policy's uid and gid (nobody when started as root
    /// without one) with no supplementary groups, and checks there is no way back.
    private static func dropPrivileges(_ credentials: SandboxPolicy.Credentials?) throws(PaddockError) -> SandboxPolicy.Credentials? {
        guard geteuid() == 0 else {
            if let credentials, credentials.uid != getuid() || credentials.gid != getgid() {
                throw PaddockError(.permissionDenied, "--uid and --gid need the launcher to start as root")
            }
            return nil
        }
        let target = credentials ?? .nobody
        guard target.uid != 0, target.gid != 0 else {
            throw PaddockError(.wrongFormat, "a plugin never runs as uid or gid 0")
        }
        guard paddock_clear_groups() == 0, paddock_setresgid(target.gid) == 0, paddock_setresuid(target.uid) == 0 else {
            throw PaddockError(.sandboxViolation, "could not switch to uid \(target.uid): \(String(cString: strerror(errno)))")
        }
        guard setuid(0) != 0, geteuid() == target.uid else {
            throw PaddockError(.sandboxViolation, "privileges could be regained after dropping them")
        }
        return target
    }

    private static func checkFallbacks(_ landlock: Landlock.Applied?, requirement: SandboxProfile.Requirement) throws(PaddockError) {
        let missing: String? =
            if landlock == nil { "Landlock is not available: filesystem rules and scoping are not enforced" }
            else if landlock?.scoping == false { "Landlock ABI \(landlock!.abi) has no scoping: signals and abstract sockets are not scoped" }
            else { nil }
        guard let missing else { return }
        if requirement == .required { throw PaddockError(.dependencyUnavailable, missing) }
        warn("paddock-sandbox: warning: \(missing) (the profile allows this fallback)")
    }

    private static func report(landlock: Landlock.Applied?, privateNetwork: Bool, credentials: SandboxPolicy.Credentials?, policy: SandboxPolicy) {
        var parts: [String] = []
        if let landlock {
            var covers = ["filesystem"]
            if landlock.network { covers.append("tcp") }
            if landlock.scoping { covers += ["signals", "abstract sockets"] }
            parts.append("landlock ABI \(landlock.abi) (\(covers.joined(separator: ", ")))")
        } else {
            parts.append("landlock unavailable")
        }
        parts.append("network \(policy.allowNetwork ? "allowed" : privateNetwork ? "private namespace" : "denied by seccomp")")
        parts.append("uid \(credentials.map { String($0.uid) } ?? String(getuid()))")
        parts.append("memory cap \(policy.limits.memory)")
        warn("paddock-sandbox: " + parts.joined(separator: "; "))
    }

    /// Writes one line to stderr without buffering.
    public static func warn(_ line: String) {
        let text = line + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
