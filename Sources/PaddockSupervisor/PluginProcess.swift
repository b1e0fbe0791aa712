import CLinux
import Foundation
import Glibc
import NIOCore
import NIOPosix
import PaddockCore
import Synchronization

/// How a plugin process ended.
public struct ProcessExit: Sendable {
    /// The raw status from `wait4`.
    public var waitStatus: Int32
    /// Peak resident memory in bytes.
    public var maxResidentBytes: Int
}

/// A sandboxed plugin process: `paddock-sandbox` spawned with one end of a
/// socketpair as descriptor 3, stdout and stderr on pipes of their own.
final class PluginProcess: Sendable {
    let pid: pid_t
    /// The host's end of the socketpair, for the RPC peer (which takes ownership).
    let socket: Int32
    /// Completes when the process has ended.
    let exit: EventLoopFuture<ProcessExit>

    /// Whether the launcher has ended (and its pid may be reused).
    private let ended = Mutex(false)

    private init(pid: pid_t, socket: Int32, exit: EventLoopFuture<ProcessExit>) {
        self.pid = pid
        self.socket = socket
        self.exit = exit
        // Held until the launcher ends, then released.
        exit.whenComplete { _ in self.ended.withLock { $0 = true } }
    }

    /// The descriptor number the plugin finds its socket at (`PADDOCK_RPC_FD`).
    static let pluginDescriptor: Int32 = 3

    /// Spawns `launcher arguments...`; its stdout and stderr lines go to `output`.
    /// - Throws: ``PaddockError`` 105 when the launcher cannot be started.
    static func spawn(
        launcher: String,
        arguments: [String],
        group: any EventLoopGroup,
        output: @escaping @Sendable (_ stream: String, _ line: String) -> Void
    ) throws -> PluginProcess {
        var pair: [Int32] = [0, 0]
        var stdout: [Int32] = [0, 0]
        var stderr: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw failure("socketpair")
        }
        guard paddock_pipe_cloexec(&stdout) == 0, paddock_pipe_cloexec(&stderr) == 0 else { throw failure("pipe") }
        // Keep the child's end clear of 0-3 so that dup2 to 3 always makes a fresh descriptor.
        let childEnd = fcntl(pair[1], F_DUPFD_CLOEXEC, 10)
        close(pair[1])

        // Spawned on the calling thread: the launcher asks for SIGKILL when its
        // parent dies (--die-with-parent), and Linux means the parent *thread*,
        // so callers spawn from a thread that lives as long as the daemon
        // (``PluginSpawner``). Any thread of the process may wait for it.
        let spawned = Result { () throws(PaddockError) in
            try Spawn.start(
                launcher, arguments: arguments, environment: ["PATH=/usr/bin:/bin"],
                actions: [.nullInput, .duplicate(stdout[1], to: 1), .duplicate(stderr[1], to: 2), .duplicate(childEnd, to: pluginDescriptor)])
        }
        for fd in [childEnd, stdout[1], stderr[1]] { close(fd) }
        if case .failure = spawned { for fd in [pair[0], stdout[0], stderr[0]] { close(fd) } }
        let child = try spawned.get()
        let exitPromise = group.next().makePromise(of: ProcessExit.self)
        let pid = child
        Thread.detachNewThread {
            var status: Int32 = 0
            var usage = rusage()
            while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
            exitPromise.succeed(ProcessExit(waitStatus: status, maxResidentBytes: usage.ru_maxrss * 1024))
        }
        LineReader.attach(stdout[0], stream: "stdout", group: group, output: output)
        LineReader.attach(stderr[0], stream: "stderr", group: group, output: output)
        return PluginProcess(pid: child, socket: pair[0], exit: exitPromise.futureResult)
    }

    /// The plugin's own process as the host numbers it: the launcher's
    /// grandchild, below the init of the plugin's pid namespace.
    var pluginPID: pid_t? {
        func children(of parent: pid_t) -> [pid_t] {
            let bytes = (try? FileSystem.read("/proc/\(parent)/task/\(parent)/children", limit: 4096)) ?? []
            return String(decoding: bytes, as: UTF8.self).split(separator: " ").compactMap { pid_t($0) }
        }
        return children(of: pid).first.flatMap { children(of: $0).first }
    }

    /// Stops the plugin: SIGTERM asks the launcher to kill the plugin's
    /// whole pid namespace and end the way the plugin ended (so a plugin that
    /// had just died on its own keeps its own death's code); SIGKILL follows
    /// when the launcher has not ended within a second.
    func kill() {
        guard !ended.withLock({ $0 }) else { return }
        _ = Glibc.kill(pid, SIGTERM)
        exit.eventLoop.scheduleTask(in: .seconds(1)) { [self] in
            if !ended.withLock({ $0 }) { _ = Glibc.kill(pid, SIGKILL) }
        }
    }

    private static func failure(_ what: String) -> PaddockError {
        PaddockError(.dependencyUnavailable, "\(what) failed: \(String(cString: strerror(errno)))")
    }
}

/// Reads a pipe and hands out its lines (a line over 16 KiB is cut into
/// pieces of 16 KiB). Each read is scanned once where it arrived; only the
/// start of a line whose end has not arrived yet is kept.
final class LineReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    static let maximumLine = 16 << 10

    private let stream: String
    private let output: @Sendable (String, String) -> Void
    /// The start of the line being read, at most ``maximumLine`` bytes.
    private var pending = ByteBuffer()

    init(stream: String, output: @escaping @Sendable (String, String) -> Void) {
        self.stream = stream
        self.output = output
    }

    static func attach(_ fd: Int32, stream: String, group: any EventLoopGroup, output: @escaping @Sendable (String, String) -> Void) {
        let bootstrap = NIOPipeBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(LineReader(stream: stream, output: output))
            }
        }
        bootstrap.takingOwnershipOfDescriptor(input: fd).whenFailure { _ in close(fd) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        while let length = buffer.withUnsafeReadableBytes({ $0.firstIndex(of: UInt8(ascii: "\n")) }) {
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if pending.readableBytes > 0 {
                pending.writeBuffer(&line)
                emit(&pending)
                pending.clear()
            } else {
                emit(&line)
            }
        }
        pending.writeBuffer(&buffer)
        while pending.readableBytes > Self.maximumLine {
            emit(pending.readString(length: Self.maximumLine)!)
        }
        pending.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if pending.readableBytes > 0 { emit(&pending) }
        pending.clear()
    }

    /// Hands out every readable byte of `line`, in pieces of at most ``maximumLine``.
    private func emit(_ line: inout ByteBuffer) {
        repeat {
            emit(line.readString(length: min(line.readableBytes, Self.maximumLine))!)
        } while line.readableBytes > 0
    }

    private func emit(_ line: String) {
        output(stream, line)
    }
}
