import Glibc
import Synchronization

/// `logs/<plugin>.log`: one line per event with time, level, plugin and call
/// id; rotated at `maximumBytes`, keeping `keep` old files (`.1` newest).
final class PluginLog: Sendable {
    let path: String
    let plugin: String
    let maximumBytes: Int
    let keep: Int
    private let state: Mutex<State>

    private struct State {
        var fd: Int32
        var size: Int
        /// The last lines of stderr, the evidence for classifying a death.
        var stderrTail: [String] = []
    }

    init(directory: String, plugin: String, maximumBytes: Int = 10 << 20, keep: Int = 5) {
        mkdir(directory, 0o755)
        self.path = directory + "/" + plugin + ".log"
        self.plugin = plugin
        self.maximumBytes = maximumBytes
        self.keep = keep
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        var info = stat()
        fstat(fd, &info)
        self.state = Mutex(State(fd: fd, size: Int(info.st_size)))
    }

    deinit {
        _ = state.withLock { close($0.fd) }
    }

    /// Writes one line: `2026-11-25T09:23:21.123Z INFO plugin call=7 message`.
    func write(_ level: String, _ message: String, call: String? = nil) {
        let line = "\(Self.timestamp()) \(level.uppercased()) \(plugin)\(call.map { " call=\($0)" } ?? "") \(message)\n"
        state.withLock { state in
            if state.size + line.utf8.count > maximumBytes { rotate(&state) }
            let written = line.withCString { Glibc.write(state.fd, $0, strlen($0)) }
            if written > 0 { state.size += written }
        }
    }

    /// A line the plugin wrote on stdout or stderr.
    func output(_ stream: String, _ line: String) {
        if stream == "stderr" {
            state.withLock { state in
                state.stderrTail.append(line)
                if state.stderrTail.count > 50 { state.stderrTail.removeFirst(state.stderrTail.count - 50) }
            }
        }
        write(stream == "stderr" ? "warn" : "info", "[\(stream)] \(line)")
    }

    /// The last lines of stderr, and forgets them (a new process starts clean).
    func takeStderrTail() -> String {
        state.withLock { state in
            defer { state.stderrTail.removeAll() }
            return state.stderrTail.joined(separator: "\n")
        }
    }

    private func rotate(_ state: inout State) {
        close(state.fd)
        for index in stride(from: keep - 1, through: 1, by: -1) {
            rename("\(path).\(index)", "\(path).\(index + 1)")
        }
        rename(path, path + ".1")
        state.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        state.size = 0
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        let millis = now.tv_nsec / 1_000_000
        let milliText = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : String(millis)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(milliText)Z"
    }
}
