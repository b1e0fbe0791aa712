import CLinux
import Glibc
import PaddockCore

/// The pipes between the launcher and the init of the plugin's pid
/// namespace, made before the fork; each side closes the other's ends.
struct InitChannel {
    /// init → launcher: the plugin's wait status; EOF when the init is gone.
    private let status: [Int32]
    /// Held open by the launcher only: the init sees EOF once it is gone.
    private let lifeline: [Int32]
    /// init → launcher: the plugin's network namespace exists.
    private let networkRequest: [Int32]
    /// launcher → init: pasta has connected it.
    private let networkGrant: [Int32]

    /// - Throws: ``PaddockError`` 304 when the pipes cannot be made.
    init() throws(PaddockError) {
        var pipes: [[Int32]] = []
        for _ in 0..<4 {
            var fds: [Int32] = [0, 0]
            guard paddock_pipe_cloexec(&fds) == 0 else { throw Launcher.errnoFailure("cannot create a pipe") }
            pipes.append(fds)
        }
        (status, lifeline, networkRequest, networkGrant) = (pipes[0], pipes[1], pipes[2], pipes[3])
    }

    var statusReader: Int32 { status[0] }
    var statusWriter: Int32 { status[1] }

    func becomeInit() {
        for fd in [status[0], lifeline[1], networkRequest[0], networkGrant[1]] { close(fd) }
    }

    func becomeLauncher() {
        for fd in [status[1], lifeline[0], networkRequest[1], networkGrant[0]] { close(fd) }
    }

    /// In the init: whether the launcher still runs.
    func launcherIsAlive() -> Bool {
        var pollfd = Glibc.pollfd(fd: lifeline[0], events: Int16(POLLIN), revents: 0)
        return poll(&pollfd, 1, 0) == 0
    }

    /// In the init: asks the launcher to connect the network namespace and
    /// waits; false when the launcher could not (it reports why) or is gone.
    func askForNetwork() -> Bool {
        var byte: UInt8 = 1
        guard write(networkRequest[1], &byte, 1) == 1 else { return false }
        return read(networkGrant[0], &byte, 1) == 1
    }

    /// In the launcher: waits for the init's request; false when it ended first.
    func waitForNetworkRequest() -> Bool {
        var byte: UInt8 = 0
        return read(networkRequest[0], &byte, 1) == 1
    }

    /// In the launcher: lets the init go on.
    func grantNetwork() {
        var byte: UInt8 = 1
        _ = write(networkGrant[1], &byte, 1)
    }

    /// In the init, once the plugin runs: nothing stays open but the status pipe.
    func closeAllButStatus() {
        let kept = UInt32(status[1])
        if kept > 3 { _ = paddock_close_range(3, kept - 1) }
        _ = paddock_close_range(kept + 1, UInt32.max)
    }
}
