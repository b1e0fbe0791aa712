import Dispatch
import Foundation
import Glibc
import PaddockCore
import Synchronization

/// A process `paddock up` starts and stops: ``Spawn``, standard input from
/// /dev/null, standard output to a file or to a pipe read line by line.
/// Unchecked Sendable: `paddock up` touches each one from its main task, and
/// from the task that stops them all when a signal comes, just before it exits.
final class ChildProcess: @unchecked Sendable {
    let name: String
    let pid: pid_t
    private let output: FileHandle?
    private var buffer: [UInt8] = []
    private var exited = false

    /// - Parameters:
    ///   - output: a file for its standard output and error, when not captured.
    ///   - capture: read its standard output here with ``nextLine()`` (its errors pass through).
    init(_ path: String, _ arguments: [String], output file: String? = nil, capture: Bool = false) throws {
        name = (path as NSString).lastPathComponent
        var actions: [Spawn.FileAction] = [.nullInput]
        var pipeEnds: [Int32] = [-1, -1]
        if capture {
            guard pipe(&pipeEnds) == 0 else { throw PaddockError(.fileLimitExceeded, "cannot make a pipe for \(path)") }
            actions += [.duplicate(pipeEnds[1], to: 1), .close(pipeEnds[0]), .close(pipeEnds[1])]
        } else if let file {
            actions += [.open(file, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600, as: 1), .duplicate(1, to: 2)]
        }
        // The calling thread is a task-pool thread with signals blocked (and
        // `up` ignores SIGINT/SIGTERM): the child starts with none blocked
        // and their default handling, so that SIGTERM stops it.
        let spawned = Result { () throws(PaddockError) in try Spawn.start(path, arguments: arguments, actions: actions, resetSignals: true) }
        if capture { close(pipeEnds[1]) }
        if capture, case .failure = spawned { close(pipeEnds[0]) }
        self.pid = try spawned.get()
        output = capture ? FileHandle(fileDescriptor: pipeEnds[0], closeOnDealloc: true) : nil
    }

    /// The next line of its captured output, or nil at its end.
    func nextLine() -> String? {
        guard let output else { return nil }
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                defer { buffer.removeFirst(newline + 1) }
                return String(decoding: buffer[..<newline], as: UTF8.self)
            }
            let chunk = output.availableData
            guard !chunk.isEmpty else { return nil }
            buffer += chunk
        }
    }

    var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    /// SIGTERM, then SIGKILL if it has not exited within five seconds.
    func terminate() {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 {
            guard isRunning else { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exited = true
    }
}

/// What `paddock up` has started, stopped together from any task (a signal
/// may come while it is still starting them).
final class ChildProcesses: Sendable {
    private let started = Mutex<[ChildProcess]>([])
    private let stopping = Atomic<Bool>(false)

    /// Whether ``stopAll()`` has begun: children exiting from now on were asked to.
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func append(_ child: ChildProcess) {
        started.withLock { $0.append(child) }
    }

    /// Stops them, the last started first.
    func stopAll() {
        stopping.store(true, ordering: .relaxed)
        for child in started.withLock({ $0 }).reversed() { child.terminate() }
    }

    /// Waits for one of them to exit on its own; its name (nil once they are being stopped).
    func firstToExit() async -> String? {
        while !isStopping {
            if let ended = started.withLock({ $0 }).first(where: { !$0.isRunning }) { return ended.name }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }
}
