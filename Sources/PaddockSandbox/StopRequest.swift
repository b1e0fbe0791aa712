import CLinux
import Glibc

/// SIGTERM to the launcher as a readable pipe: the supervisor's way to stop
/// a plugin and still learn how it ended. The launcher then kills the whole
/// pid namespace and ends like the plugin did (if it had died on its own just
/// before, say of SIGXCPU, that death is what the supervisor sees).
enum StopRequest {
    /// The pipe's write end: set once before the handler is installed, then only read by it.
    nonisolated(unsafe) private static var writer: Int32 = -1

    /// Installs the handler in this (single-threaded) process.
    /// - Returns: the pipe's read end, readable once SIGTERM has come; nil without a pipe.
    static func install() -> Int32? {
        var fds: [Int32] = [0, 0]
        guard paddock_pipe_cloexec(&fds) == 0 else { return nil }
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)  // a handler must never block
        writer = fds[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var byte: UInt8 = 1
            _ = write(StopRequest.writer, &byte, 1)
        }
        sigaction(SIGTERM, &action, nil)
        return fds[0]
    }
}
