import Glibc

/// How the end of a process travels up the launcher's chain (plugin → the
/// pid namespace's init → the launcher) so that the supervisor, which waits
/// for the launcher, sees the plugin's own exit status or signal.
enum ExitRelay {
    /// Writes a wait status to the pipe (4 bytes, host order).
    static func send(_ status: Int32, to fd: Int32) {
        var value = status
        _ = withUnsafeBytes(of: &value) { write(fd, $0.baseAddress, 4) }
    }

    /// The wait status in the pipe, if one was written.
    static func receive(from fd: Int32) -> Int32? {
        var value: Int32 = 0
        let count = withUnsafeMutableBytes(of: &value) { read(fd, $0.baseAddress, 4) }
        return count == 4 ? value : nil
    }

    /// Ends this process the way `status` says another ended: the same exit
    /// status, or death by the same signal (default action, no core dump).
    static func end(like status: Int32) -> Never {
        let signal = status & 0x7f
        if signal == 0 { _exit((status >> 8) & 0xff) }
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(4, &none)  // RLIMIT_CORE: the signal's default action must not dump a core
        Glibc.signal(signal, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigprocmask(SIG_SETMASK, &set, nil)
        kill(getpid(), signal)
        _exit(128 + signal)  // a signal whose default is to be ignored
    }

    /// The wait status of a process killed by `signal`.
    static func killed(by signal: Int32) -> Int32 { signal & 0x7f }
}
