import Dispatch
import Glibc
import PaddockCore
import Synchronization

/// `logs/<plugin>.log`: one line per event with time, level, plugin, call
/// id and the outside request's id; rotated at `maximumBytes`, keeping
/// `keep` old files (`.1` newest).
///
/// Callers only queue lines; ``LogWriter``'s thread formats, writes and
/// rotates. What the plugin wrote (stdout, stderr, `log` notifications)
/// waits in a queue bounded by `queueLines` and `queueBytes`: past either,
/// its lines are dropped and counted (``droppedLines``), and the writer
/// notes how many where they were lost. The supervisor's own lines are never
/// dropped, and keep their order among the plugin's.
final class PluginLog: Sendable {
    let path: String
    let plugin: String
    let maximumBytes: Int
    let keep: Int
    /// The plugin's lines that may wait to be written, at most.
    let queueLines: Int
    let queueBytes: Int
    private let queue: Mutex<Queue>
    /// Touched by the writer thread only (and `deinit`).
    private let file: Mutex<File>

    /// The stderr lines kept for classifying a death.
    static let tailLines = 50

    private struct Line: Sendable {
        var seconds: Int
        var nanoseconds: Int
        var level: String
        var call: String?
        /// The outside request the call serves (``RequestID``).
        var request: String?
        /// `stdout` or `stderr` for the plugin's output, shown as `[stream] `.
        var stream: String?
        var text: String
        /// Bytes charged to the queue's bound; nil for the supervisor's lines.
        var charge: Int?
    }

    private enum Entry: Sendable {
        case line(Line)
        /// Lines dropped here (a run of them is one entry), since `seconds`.
        case dropped(count: Int, seconds: Int, nanoseconds: Int)
        /// Runs on the writer once everything before it is written.
        case barrier(@Sendable () -> Void)
    }

    private struct Queue {
        var entries: [Entry] = []
        /// Whether the log is on the writer's list: set by the first entry,
        /// cleared when the writer takes the entries.
        var scheduled = false
        /// The plugin's lines and bytes queued, and taken but not yet written.
        var lines = 0
        var bytes = 0
        var dropped = 0
        /// The last lines of stderr, the evidence for classifying a death.
        var stderrTail: [String] = []

        /// Adds `entry`; true when the log must be put on the writer's list.
        mutating func append(_ entry: Entry) -> Bool {
            entries.append(entry)
            defer { scheduled = true }
            return !scheduled
        }
    }

    private struct File {
        var fd: Int32
        var size: Int
    }

    init(
        directory: String, plugin: String, maximumBytes: Int = 10 << 20, keep: Int = 5,
        queueLines: Int = 1024, queueBytes: Int = 1 << 20
    ) {
        mkdir(directory, 0o755)
        self.path = directory + "/" + plugin + ".log"
        self.plugin = plugin
        self.maximumBytes = maximumBytes
        self.keep = keep
        self.queueLines = queueLines
        self.queueBytes = queueBytes
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        // Appending: the file's end is its size.
        self.file = Mutex(File(fd: fd, size: fd >= 0 ? max(0, Int(lseek(fd, 0, SEEK_END))) : 0))
        self.queue = Mutex(Queue())
    }

    deinit {
        _ = file.withLock { close($0.fd) }
    }

    // MARK: Queueing (any thread)

    /// A line of the supervisor's own (`died: error 301 ...`): never dropped.
    /// Writes `2026-11-25T09:23:21.123Z INFO plugin message`.
    func write(_ level: String, _ message: String) {
        enqueue(level, call: nil, request: nil, stream: nil, message, bounded: false)
    }

    /// A `log` notification the plugin sent, for `call` serving the outside
    /// request `request`: bounded like its output. Writes
    /// `... INFO plugin call=7 request=4f9c... [log] message`: a level that
    /// is not one is `info`, and a call or request id that is not one (see
    /// ``RequestID``) is left out, so the fixed fields say what the
    /// supervisor knows and the plugin's text comes after `[log]`.
    func write(_ level: String, _ message: String, call: String?, request: String? = nil) {
        enqueue(
            Self.levels.contains(level.lowercased()) ? level : "info", call: call.flatMap { RequestID.isValid($0) ? $0 : nil },
            request: request.flatMap { RequestID.isValid($0) ? $0 : nil }, stream: "log", message, bounded: true)
    }

    /// The levels a plugin may give its lines.
    static let levels: Set = ["trace", "debug", "info", "notice", "warn", "warning", "error", "critical"]

    /// A `log` notification as the plugin sent it: `{"level", "message",
    /// "call"?, "request_id"?}` (see docs/protocol.md), written as above.
    func write(notification entry: JSONValue) {
        let call: String? = switch entry["call"] {
        case .int(let number)?: String(number)
        case .string(let text)?: text
        default: nil
        }
        write(
            entry["level"]?.stringValue ?? "info", entry["message"]?.stringValue ?? entry.jsonText, call: call,
            request: entry[RequestID.parameter]?.stringValue)
    }

    /// A line the plugin wrote on stdout or stderr. The stderr tail is kept
    /// here, whole, whether or not the line reaches the file.
    func output(_ stream: String, _ line: String) {
        let isStderr = stream == "stderr"
        enqueue(isStderr ? "warn" : "info", call: nil, request: nil, stream: stream, line, bounded: true, tail: isStderr)
    }

    /// The last lines of stderr, and forgets them (a new process starts clean).
    func takeStderrTail() -> String {
        queue.withLock { queue in
            defer { queue.stderrTail.removeAll() }
            return queue.stderrTail.joined(separator: "\n")
        }
    }

    /// The plugin's lines dropped because its queue was full, since the log was made.
    var droppedLines: Int {
        queue.withLock { $0.dropped }
    }

    /// Blocks until every line queued so far is written. Not for the
    /// writer's thread, nor an event loop.
    func flush() {
        let done = DispatchSemaphore(value: 0)
        afterQueued { done.signal() }
        done.wait()
    }

    /// Runs `body` on the writer's thread once every line queued so far is
    /// written (and no line queued later is).
    func afterQueued(_ body: @escaping @Sendable () -> Void) {
        if queue.withLock({ $0.append(.barrier(body)) }) { LogWriter.shared.schedule(self) }
    }

    private func enqueue(
        _ level: String, call: String?, request: String?, stream: String?, _ text: String, bounded: Bool, tail: Bool = false
    ) {
        // The clock is read through the vDSO: no system call.
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let charge = bounded ? text.utf8.count + (call?.utf8.count ?? 0) + (request?.utf8.count ?? 0) : nil
        let line = Line(
            seconds: now.tv_sec, nanoseconds: now.tv_nsec, level: level, call: call, request: request, stream: stream, text: text,
            charge: charge)
        let schedule = queue.withLock { queue -> Bool in
            if tail {
                queue.stderrTail.append(text)
                if queue.stderrTail.count > Self.tailLines { queue.stderrTail.removeFirst() }
            }
            if let charge {
                guard queue.lines < queueLines, queue.bytes + charge <= queueBytes else {
                    queue.dropped += 1
                    if case .dropped(let count, let seconds, let nanoseconds)? = queue.entries.last {
                        queue.entries[queue.entries.count - 1] = .dropped(count: count + 1, seconds: seconds, nanoseconds: nanoseconds)
                        return false
                    }
                    return queue.append(.dropped(count: 1, seconds: now.tv_sec, nanoseconds: now.tv_nsec))
                }
                queue.lines += 1
                queue.bytes += charge
            }
            return queue.append(.line(line))
        }
        if schedule { LogWriter.shared.schedule(self) }
    }

    // MARK: Writing (the writer's thread)

    /// Writes every entry queued so far; called by ``LogWriter`` only.
    func writeQueued() {
        let entries = queue.withLock { queue in
            var taken: [Entry] = []
            swap(&taken, &queue.entries)
            queue.scheduled = false
            return taken
        }
        file.withLock { file in
            var buffer: [UInt8] = []
            // The plugin's lines in `buffer`, released from the bound once written.
            var lines = 0
            var bytes = 0
            func writeOut() {
                write(&buffer, to: &file)
                queue.withLock { queue in
                    queue.lines -= lines
                    queue.bytes -= bytes
                }
                (lines, bytes) = (0, 0)
            }
            for entry in entries {
                switch entry {
                case .line(let line):
                    append(format(line), to: &buffer, file: &file)
                    if let charge = line.charge {
                        lines += 1
                        bytes += charge
                    }
                case .dropped(let count, let seconds, let nanoseconds):
                    let what = count == 1 ? "1 line" : "\(count) lines"
                    let line = Line(
                        seconds: seconds, nanoseconds: nanoseconds, level: "warn", call: nil, request: nil, stream: nil,
                        text: "dropped \(what) of output (the plugin wrote faster than its log is written)")
                    append(format(line), to: &buffer, file: &file)
                case .barrier(let body):
                    writeOut()
                    body()
                }
                if buffer.count >= 64 << 10 { writeOut() }
            }
            writeOut()
        }
    }

    /// Adds `line` to what is about to be written, rotating first when the
    /// file would pass `maximumBytes`.
    private func append(_ line: [UInt8], to buffer: inout [UInt8], file: inout File) {
        if file.size + buffer.count > 0, file.size + buffer.count + line.count > maximumBytes {
            write(&buffer, to: &file)
            rotate(&file)
        }
        buffer += line
    }

    /// Writes `buffer` whole (a short write goes on; an error loses the rest) and empties it.
    private func write(_ buffer: inout [UInt8], to file: inout File) {
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let written = Glibc.write(file.fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { break }
                offset += written
            }
        }
        file.size += offset
        buffer.removeAll(keepingCapacity: true)
    }

    private func rotate(_ file: inout File) {
        close(file.fd)
        for index in stride(from: keep - 1, through: 1, by: -1) {
            rename("\(path).\(index)", "\(path).\(index + 1)")
        }
        rename(path, path + ".1")
        file.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        file.size = 0
    }

    /// `2026-11-25T09:23:21.123Z WARN plugin call=7 request=4f9c... [stderr] text\n`:
    /// one line whatever the text holds (its control characters and
    /// backslashes escaped), and every line of the plugin's own marked by
    /// its stream (`[log]`, `[stdout]`, `[stderr]`), which the supervisor's
    /// lines never have: a plugin cannot forge one.
    private func format(_ line: Line) -> [UInt8] {
        let call = (line.call.map { " call=\($0)" } ?? "") + (line.request.map { " request=\($0)" } ?? "")
        let stream = line.stream.map { "[\($0)] " } ?? ""
        let text = line.text.escapingControlCharacters(backslashes: true)
        return Array("\(Self.timestamp(line.seconds, line.nanoseconds)) \(line.level.uppercased()) \(plugin)\(call) \(stream)\(text)\n".utf8)
    }

    private static func timestamp(_ seconds: Int, _ nanoseconds: Int) -> String {
        var parts = tm()
        var seconds = seconds
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        let millis = nanoseconds / 1_000_000
        let milliText = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : String(millis)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(milliText)Z"
    }
}
