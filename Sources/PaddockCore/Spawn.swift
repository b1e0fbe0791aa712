public import Glibc
import SystemPackage

/// Starts programs: the one `posix_spawn` of Paddock (the launcher's own
/// fork of the plugin aside). `posix_spawn` is vfork and exec, about 0.5 ms,
/// where Foundation's `Process` costs some 50 ms; and glibc reports a failed
/// exec (a missing program) as the spawn's own error, so there is nothing to
/// read back from the child.
public enum Spawn {
    /// One step that makes the child's descriptors, in order, between fork and exec.
    public enum FileAction: Sendable, Equatable {
        /// `source` copied to descriptor `target` (`dup2`: the copy stays open across exec).
        case duplicate(_ source: Int32, to: Int32)
        /// `path` opened with `flags` (and `mode` when created) as descriptor `target`.
        case open(_ path: String, flags: Int32, mode: mode_t = 0, as: Int32)
        /// A descriptor closed.
        case close(Int32)
        /// Every descriptor from `lowest` up closed: for a helper that needs
        /// only its standard ones, whatever the daemon holds open without
        /// close-on-exec (a listening socket of NIO's is one).
        case closeFrom(Int32)

        /// Standard input from /dev/null.
        public static let nullInput = FileAction.open("/dev/null", flags: O_RDONLY, as: 0)

        /// Descriptor `target` to /dev/null, for output nobody reads.
        public static func nullOutput(_ target: Int32) -> FileAction {
            .open("/dev/null", flags: O_WRONLY, as: target)
        }
    }

    /// Starts `path` with `arguments` (its `argv[0]` is `path`).
    /// - Parameters:
    ///   - environment: `NAME=value` entries; nil passes this process's environment on.
    ///   - actions: the child's descriptors; every descriptor not named stays
    ///     as it is, so the caller's own ones should be close-on-exec.
    ///   - resetSignals: start the child with no signal blocked and SIGINT,
    ///     SIGTERM, SIGHUP and SIGPIPE handled by default, whatever the calling
    ///     thread blocks or the process ignores (a task-pool thread blocks
    ///     signals; NIO ignores SIGPIPE), so that they stop the child.
    /// - Returns: the child's pid; the caller waits for it.
    /// - Throws: ``PaddockError`` 105 when it cannot be started (missing, not
    ///   executable, out of processes), its `Errno` as the underlying error.
    public static func start(
        _ path: String, arguments: [String], environment: [String]? = nil, actions: [FileAction] = [],
        resetSignals: Bool = false
    ) throws(PaddockError) -> pid_t {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        for action in actions {
            // glibc copies the path: the temporary C string may go after the call.
            switch action {
            case .duplicate(let source, let target): posix_spawn_file_actions_adddup2(&fileActions, source, target)
            case .open(let path, let flags, let mode, let target): posix_spawn_file_actions_addopen(&fileActions, target, path, flags, mode)
            case .close(let descriptor): posix_spawn_file_actions_addclose(&fileActions, descriptor)
            case .closeFrom(let lowest):
                // glibc's closefrom action is not visible to Swift: close what is open now, by number.
                for descriptor in openDescriptors() where descriptor >= lowest {
                    posix_spawn_file_actions_addclose(&fileActions, descriptor)
                }
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if resetSignals {
            var none = sigset_t()
            sigemptyset(&none)
            posix_spawnattr_setsigmask(&attributes, &none)
            var defaults = sigset_t()
            sigemptyset(&defaults)
            for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, number) }
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let result =
            if let envp { posix_spawn(&pid, path, &fileActions, &attributes, argv, envp) }
            else { posix_spawn(&pid, path, &fileActions, &attributes, argv, environ) }
        guard result == 0 else {
            throw PaddockError(
                .dependencyUnavailable, "cannot start \(path): \(String(cString: strerror(result)))", underlying: Errno(rawValue: result))
        }
        return pid
    }

    /// Waits for child `pid` to end (through interrupted waits).
    /// - Returns: its raw wait status, and its peak resident memory in bytes.
    /// The descriptors this process has open (from /proc/self/fd).
    private static func openDescriptors() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        let own = dirfd(directory)
        var descriptors: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let descriptor = Int32(name), descriptor != own { descriptors.append(descriptor) }
        }
        return descriptors
    }

    public static func wait(_ pid: pid_t) -> (status: Int32, maxResidentBytes: Int) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return (status, usage.ru_maxrss * 1024)
    }
}
