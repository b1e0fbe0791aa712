import CLinux
import Glibc
import PaddockCore

/// What `paddock-sandbox` does: apply every restriction of a policy to a
/// fresh, single-threaded process, then exec the plugin.
///
/// Three processes: the launcher stays in the host's namespaces, watches the
/// plugin's CPU budget and hands its end to the supervisor; it forks the
/// init of a new pid namespace, which builds the plugin's view (mount,
/// network, IPC, UTS and cgroup namespaces), forks the plugin and reaps
/// orphans; the plugin drops every privilege and execs. When the init ends,
/// the kernel kills everything left in the namespace; when the launcher
/// dies, the init dies with it (parent-death signal).
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
        let profile = try step(.profile) { () throws(PaddockError) in
            if let cache = ProfileCache() { return try cache.load(path: arguments.profilePath) }
            return try SandboxProfile.load(path: arguments.profilePath)
        }
        let policy = SandboxPolicy(profile: profile, overrides: arguments.overrides)
        // Compiled now, while still privileged enough to use the cache; installed last.
        let filter = try step(.seccomp) { () throws(PaddockError) in try SeccompFilter(policy.seccomp, cache: SeccompCache()) }
        var variables = policy.profile.environment
        variables["HOME"] = SandboxView.dataPath
        variables["TMPDIR"] = "/tmp"
        variables["USER"] = policy.identity
        variables["LOGNAME"] = policy.identity
        variables.merge(arguments.overrides.environment) { _, given in given }
        let environment = Environment(variables)
        let program = try step(.program) { () throws(PaddockError) in try environment.resolve(arguments.program) }
        _ = setsid()  // Fails only when already a session leader, which is as good.
        resetSignals()
        try step(.cgroup) { () throws(PaddockError) in try join(policy.cgroups) }
        let credentials = try step(.credentials) { () throws(PaddockError) in try target(policy.credentials) }
        let view = SandboxView(policy: policy, program: program, uid: credentials.uid, gid: credentials.gid)
        let network = policy.allowNetwork ? (OutboundNetwork.hostAddresses(), try allowedRanges(policy)) : nil
        if policy.dieWithParent {
            let parent = getppid()
            _ = paddock_set_parent_death_signal(SIGKILL)
            if getppid() != parent { _exit(LaunchStep.namespace.exitStatus) }  // the parent is already gone
        }
        // Only the init goes into the new pid namespace: the launcher's later
        // children (pasta) stay in the host's.
        let hostPIDs = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
        try step(.namespace) { () throws(PaddockError) in
            guard hostPIDs >= 0, paddock_unshare(paddock_clone_newpid()) == 0 else { throw errnoFailure("cannot create a pid namespace") }
        }
        let channel = try step(.namespace) { () throws(PaddockError) in try InitChannel() }
        let initPID = paddock_fork()
        if initPID == 0 {
            channel.becomeInit()
            try runInit(policy: policy, view: view, credentials: credentials, network: network, channel: channel) { () throws(LaunchFailure) -> Never in
                try confine(
                    policy: policy, view: view, credentials: credentials, filter: filter, environment: environment,
                    program: program, arguments: arguments)
            }
        }
        guard initPID > 0 else { throw LaunchFailure(.namespace, errnoFailure("cannot fork the namespace's init")) }
        channel.becomeLauncher()
        _ = paddock_setns(hostPIDs, paddock_clone_newpid())
        close(hostPIDs)
        // The plugin's descriptors are the plugin's: its socket ends when it does.
        for fd in Set(arguments.overrides.keptDescriptors) where fd > 2 { close(fd) }
        LauncherWatch(initPID: initPID, channel: channel, policy: policy).run()
    }

    /// The init of the plugin's pid namespace: builds the view, starts the
    /// plugin as its child, reaps every process, and reports the plugin's end.
    private static func runInit(
        policy: SandboxPolicy, view: SandboxView, credentials: SandboxPolicy.Credentials,
        network: (hosts: [IPv4Range], allowed: [IPv4Range])?, channel: InitChannel,
        plugin: () throws(LaunchFailure) -> Never
    ) throws(LaunchFailure) -> Never {
        _ = paddock_set_parent_death_signal(SIGKILL)
        if !channel.launcherIsAlive() { _exit(LaunchStep.namespace.exitStatus) }
        try step(.namespace) { () throws(PaddockError) in
            guard paddock_unshare(paddock_clone_view() | paddock_clone_newnet()) == 0 else {
                throw errnoFailure("cannot create the plugin's namespaces")
            }
            if let network {
                guard channel.askForNetwork() else { _exit(LaunchStep.namespace.exitStatus) }
                try OutboundNetwork.restrict(hostAddresses: network.hosts, allowed: network.allowed)
            } else {
                try bringUpLoopback()
            }
            _ = policy.identity.withCString { sethostname($0, strlen($0)) }
        }
        try step(.view) { () throws(PaddockError) in try ViewBuilder.enter(view, uid: credentials.uid, gid: credentials.gid) }
        let pluginPID = paddock_fork()
        if pluginPID == 0 { try plugin() }
        guard pluginPID > 0 else { throw LaunchFailure(.namespace, errnoFailure("cannot fork the plugin")) }
        channel.closeAllButStatus()
        while true {
            var status: Int32 = 0
            let reaped = waitpid(-1, &status, 0)
            if reaped == pluginPID {
                ExitRelay.send(status, to: channel.statusWriter)
                _exit(0)  // the kernel now kills what is left in the namespace
            }
            if reaped < 0 && errno == ECHILD { _exit(0) }
        }
    }

    /// The plugin's own process: limits, credentials, Landlock, seccomp, exec.
    private static func confine(
        policy: SandboxPolicy, view: SandboxView, credentials: SandboxPolicy.Credentials, filter: SeccompFilter,
        environment: Environment, program: String, arguments: LauncherArguments
    ) throws(LaunchFailure) -> Never {
        _ = paddock_set_parent_death_signal(SIGKILL)
        if getppid() != 1 { _exit(LaunchStep.namespace.exitStatus) }
        try step(.program) { () throws(PaddockError) in
            let directory = arguments.directory ?? SandboxView.dataPath
            guard chdir(directory) == 0 else {
                throw PaddockError(.dependencyUnavailable, "--chdir \(directory): \(String(cString: strerror(errno))) in the plugin's view")
            }
        }
        try step(.limits) { () throws(PaddockError) in try ResourceLimiter.apply(policy.limits, cgroupEnforcesMemory: !policy.cgroups.isEmpty) }
        try step(.credentials) { () throws(PaddockError) in try dropPrivileges(to: credentials) }
        // Changing credentials cleared the parent-death signal.
        _ = paddock_set_parent_death_signal(SIGKILL)
        if getppid() != 1 { _exit(LaunchStep.credentials.exitStatus) }
        try step(.noNewPrivileges) { () throws(PaddockError) in
            guard paddock_set_no_new_privs() == 0 else { throw PaddockError(.sandboxViolation, "PR_SET_NO_NEW_PRIVS failed") }
        }
        let landlock = try step(.landlock) { () throws(PaddockError) in
            try Landlock.apply(readable: view.readable, writable: view.writable, executable: program, allowNetwork: policy.allowNetwork)
        }
        try step(.landlock) { () throws(PaddockError) in try checkFallbacks(landlock, requirement: policy.profile.landlock) }
        if arguments.report { report(landlock: landlock, credentials: credentials, policy: policy) }
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

    /// The uid and gid the plugin runs as: the policy's, or nobody. Building
    /// the view takes root; a plugin never runs as uid or gid 0.
    private static func target(_ credentials: SandboxPolicy.Credentials?) throws(PaddockError) -> SandboxPolicy.Credentials {
        guard geteuid() == 0 else {
            throw PaddockError(
                .dependencyUnavailable,
                "paddock-sandbox must start as root: it builds the plugin's mount, pid and network namespaces, then drops to the plugin's uid")
        }
        let target = credentials ?? .nobody
        guard target.uid != 0, target.gid != 0 else { throw PaddockError(.wrongFormat, "a plugin never runs as uid or gid 0") }
        return target
    }

    private static func allowedRanges(_ policy: SandboxPolicy) throws(LaunchFailure) -> [IPv4Range] {
        var ranges: [IPv4Range] = []
        for text in policy.allowedRanges { ranges.append(try step(.arguments) { () throws(PaddockError) in try IPv4Range(parsing: text) }) }
        return ranges
    }

    /// Without network the namespace has only loopback, which starts down.
    private static func bringUpLoopback() throws(PaddockError) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { if fd >= 0 { close(fd) } }
        guard fd >= 0, paddock_interface_up(fd, "lo") == 0 else { throw errnoFailure("cannot bring up loopback") }
    }

    /// Switches to the uid and gid with no supplementary groups, and checks there is no way back.
    private static func dropPrivileges(to target: SandboxPolicy.Credentials) throws(PaddockError) {
        guard paddock_clear_groups() == 0, paddock_setresgid(target.gid) == 0, paddock_setresuid(target.uid) == 0 else {
            throw PaddockError(.sandboxViolation, "could not switch to uid \(target.uid): \(String(cString: strerror(errno)))")
        }
        guard setuid(0) != 0, geteuid() == target.uid else {
            throw PaddockError(.sandboxViolation, "privileges could be regained after dropping them")
        }
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

    private static func report(landlock: Landlock.Applied?, credentials: SandboxPolicy.Credentials, policy: SandboxPolicy) {
        var parts = ["view: own root, pid, mount, IPC, UTS and cgroup namespaces"]
        if let landlock {
            var covers = ["filesystem"]
            if landlock.network { covers.append("tcp") }
            if landlock.scoping { covers += ["signals", "abstract sockets"] }
            parts.append("landlock ABI \(landlock.abi) (\(covers.joined(separator: ", ")))")
        } else {
            parts.append("landlock unavailable")
        }
        parts.append("network \(policy.allowNetwork ? "outbound only (pasta)" : "private namespace")")
        parts.append("uid \(credentials.uid)")
        parts.append("memory cap \(policy.limits.memory)")
        parts.append("disk \(policy.limits.disk), \(policy.limits.diskFiles) files")
        warn("paddock-sandbox: " + parts.joined(separator: "; "))
    }

    static func errnoFailure(_ what: String) -> PaddockError {
        PaddockError(.sandboxViolation, "\(what): \(String(cString: strerror(errno)))")
    }

    /// Writes one line to stderr without buffering.
    public static func warn(_ line: String) {
        let text = line + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
