public import Foundation
import Glibc
import PaddockCore

/// A process that runs while a test works, stopped with `stop()`.
public final class Background {
    public let pid: pid_t
    private let output: Int32

    /// Starts `executable`; its standard output is read with ``nextLine()``.
    /// - Parameter errors: a file its standard error is appended to; else it is the test's.
    public init(_ executable: URL, _ arguments: [String], errors: String? = nil) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        var actions: [Spawn.FileAction] = [.duplicate(fds[1], to: 1), .close(fds[0]), .close(fds[1])]
        if let errors { actions.insert(.open(errors, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600, as: 2), at: 1) }
        let spawned = Result { () throws(PaddockError) in
            try Spawn.start(executable.path, arguments: arguments, actions: actions)
        }
        close(fds[1])
        if case .failure = spawned { close(fds[0]) }
        self.pid = try spawned.get()
        self.output = fds[0]
    }

    /// The next line the process prints (empty at the end of its output).
    public func nextLine() -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(output, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        return String(decoding: line, as: UTF8.self)
    }

    public func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(output)
    }
}

/// A Unix socket listening on an abstract address, outside any sandbox.
public final class AbstractListener {
    private let fd: Int32

    public init(name: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer[0] = 0  // abstract: a leading NUL, no file
            for (index, byte) in path.enumerated() { buffer[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + path.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
    }

    public func close() {
        _ = Glibc.close(fd)
    }
}

extension Background {
    /// Whether the process is still running (not yet reaped, not a zombie).
    public var isRunning: Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.isEmpty && stat.split(separator: ")").last?.split(separator: " ").first != "Z"
    }

    /// Waits for the process to end and returns its exit status.
    public func wait() -> Int32 {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status >> 8) & 0xff
    }
}
