public import Foundation
import Glibc
import PaddockCore

/// Runs built executables for tests with `posix_spawn` (Foundation's
/// `Process` costs ~50 ms a start, too slow for thousands of runs).
public enum ProcessRunner {
    /// What a finished process left behind.
    public struct Result: Sendable {
        /// The exit status, or nil when a signal ended the process.
        public var status: Int32?
        /// The signal that ended the process, if any.
        public var signal: Int32?
        public var stdout: String
        public var stderr: String
        /// The raw status from `wait4`, for death classification.
        public var waitStatus: Int32
        /// The peak resident size of the process, in bytes.
        public var maxResidentBytes: Int
    }

    /// The directory of the build products: the test bundle runs from it.
    public static var productsDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// A built executable of this package, such as `paddock`.
    public static func product(_ name: String) -> URL {
        productsDirectory.appendingPathComponent(name)
    }

    /// Runs `executable` with `arguments` and waits for it. `environment`
    /// adds to (or replaces in) this process's environment; `input` is a file
    /// to read as standard input (else this process's is inherited).
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], input: String? = nil
    ) throws -> Result {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(.EMFILE) }

        var actions: [Spawn.FileAction] = [.duplicate(outPipe[1], to: 1), .duplicate(errPipe[1], to: 2)]
        actions += (outPipe + errPipe).map(Spawn.FileAction.close)
        if let input { actions.append(.open(input, flags: O_RDONLY, as: 0)) }
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { _, new in new }
        let spawned = Swift.Result { () throws(PaddockError) in
            try Spawn.start(
                executable.path, arguments: arguments, environment: variables.map { "\($0.key)=\($0.value)" }, actions: actions)
        }
        close(outPipe[1])
        close(errPipe[1])
        defer {
            close(outPipe[0])
            close(errPipe[0])
        }
        let pid = try spawned.get()

        let (stdout, stderr) = drain(outPipe[0], errPipe[0])
        let (status, maxResidentBytes) = Spawn.wait(pid)
        let exited = status & 0x7f == 0
        return Result(
            status: exited ? (status >> 8) & 0xff : nil,
            signal: exited ? nil : status & 0x7f,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self),
            waitStatus: status,
            maxResidentBytes: maxResidentBytes
        )
    }

    /// Reads both pipes to their ends, whichever fills first.
    private static func drain(_ out: Int32, _ err: Int32) -> ([UInt8], [UInt8]) {
        var collected: [Int32: [UInt8]] = [out: [], err: []]
        var open = [out, err]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 else {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    collected[entry.fd]! += buffer[..<count]
                } else if count == 0 || errno != EINTR {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        return (collected[out]!, collected[err]!)
    }
}
