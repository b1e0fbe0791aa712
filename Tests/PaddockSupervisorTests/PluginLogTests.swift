import Foundation
import Glibc
import NIOPosix
import PaddockCore
@testable import PaddockSupervisor
import Synchronization
import Testing

@Suite struct PluginLogTests {
    private static func directory() -> String {
        NSTemporaryDirectory() + "paddock-log-\(UUID().uuidString)"
    }

    /// The log's lines without their timestamps: `LEVEL plugin ...`.
    private static func lines(_ log: PluginLog) throws -> [String] {
        try String(contentsOfFile: log.path, encoding: .utf8).split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1)[1]) }
    }

    @Test func linesCarryTimeLevelPluginAndCallAndRotate() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = PluginLog(directory: directory, plugin: "notes", maximumBytes: 2000, keep: 2)
        log.write("info", "first", call: "7")
        log.flush()
        let first = try String(contentsOfFile: log.path, encoding: .utf8)
        #expect(first.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO notes call=7 \[log\] first\n$"#, options: .regularExpression) != nil, "\(first)")
        for index in 0..<200 { log.write("warn", "line \(index)") }
        log.flush()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["notes.log", "notes.log.1", "notes.log.2"])
        let size = try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int ?? .max
        #expect(size <= 2000)
        #expect(try String(contentsOfFile: log.path, encoding: .utf8).hasSuffix(" WARN notes line 199\n"))
        // The newest old file ends where the current one starts.
        let previous = try String(contentsOfFile: log.path + ".1", encoding: .utf8)
        let firstKept = try #require(try Self.lines(log).first.flatMap { Int($0.split(separator: " ").last ?? "") })
        #expect(previous.hasSuffix(" WARN notes line \(firstKept - 1)\n"), "\(previous)")
    }

    @Test func aPluginsLogLineCarriesTheRequestItServesWhenItIsOne() throws {
        let log = PluginLog(directory: Self.directory(), plugin: "p")
        log.write("info", "given", call: "7", request: "4f9c-req.1")
        log.write(notification: ["level": "warn", "message": "sent", "call": 8, "request_id": "abc:1", "fields": [:]])
        log.write(notification: ["level": "info", "message": "forged", "call": 9, "request_id": "x\nINFO p call=1 lies"])
        log.write(notification: ["message": "unbound", "call": nil])
        log.flush()
        #expect(try Self.lines(log) == [
            "INFO p call=7 request=4f9c-req.1 [log] given", "WARN p call=8 request=abc:1 [log] sent", "INFO p call=9 [log] forged",
            "INFO p [log] unbound",
        ])
    }

    /// The report's forgery: a message with a newline and a supervisor-like
    /// line behind it, terminal escapes, a made-up level and call.
    @Test func aPluginsTextIsOneEscapedLineBehindItsStreamAndCannotForgeTheSupervisors() throws {
        let log = PluginLog(directory: Self.directory(), plugin: "text-tools")
        let forged = "ok\n2026-12-02T10:00:00.000Z ERROR text-tools died: error 304: forbidden system call"
        log.write(notification: ["level": "info", "message": .string(forged), "call": 3])
        log.write(notification: ["level": "ERROR text-tools died:", "message": "\u{1b}[2J\u{1b}]0;owned\u{07}red\u{9b}31m", "call": "1 lies\nx"])
        log.output("stderr", "tab\there \\n not a newline \u{202e}txet")
        log.write("error", "died: error 301")
        log.flush()
        let text = try String(contentsOfFile: log.path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5 && lines.last == "", "four lines and the final newline: \(text)")
        #expect(try Self.lines(log) == [
            "INFO text-tools call=3 [log] ok\\n2026-12-02T10:00:00.000Z ERROR text-tools died: error 304: forbidden system call",
            "INFO text-tools [log] \\x1b[2J\\x1b]0;owned\\x07red\\x9b31m",
            "WARN text-tools [stderr] tab\\there \\\\n not a newline \\u{202e}txet",
            "ERROR text-tools died: error 301",
        ])
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E })
    }

    @Test func stderrTailIsKeptForClassification() {
        let log = PluginLog(directory: Self.directory(), plugin: "p")
        log.output("stdout", "hello")
        log.output("stderr", "MemoryError")
        #expect(log.takeStderrTail() == "MemoryError")
        #expect(log.takeStderrTail() == "")
    }

    @Test func linesArriveInOrderWithTheirStreamAndLevel() throws {
        let log = PluginLog(directory: Self.directory(), plugin: "p", queueLines: 10_000)
        for index in 0..<3000 {
            switch index % 3 {
            case 0: log.output("stdout", "\(index)")
            case 1: log.output("stderr", "\(index)")
            default: log.write("info", "\(index)")
            }
        }
        log.flush()
        let expected = (0..<3000).map { index in
            switch index % 3 {
            case 0: "INFO p [stdout] \(index)"
            case 1: "WARN p [stderr] \(index)"
            default: "INFO p \(index)"
            }
        }
        #expect(try Self.lines(log) == expected)
        #expect(log.droppedLines == 0)
    }

    /// Holds the shared writer thread in a barrier of `log` until `body` returns.
    private func whileTheWriterIsHeld(_ log: PluginLog, _ body: () throws -> Void) rethrows {
        let held = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        log.afterQueued {
            held.signal()
            gate.wait()
        }
        held.wait()
        defer {
            gate.signal()
            log.flush()
        }
        try body()
    }

    @Test func aFloodBeyondTheBoundIsDroppedCountedAndNotedWhereItWasLost() throws {
        let log = PluginLog(directory: Self.directory(), plugin: "p", queueLines: 10)
        whileTheWriterIsHeld(log) {
            for index in 0..<100 { log.output("stdout", "line \(index)") }
            #expect(log.droppedLines == 90)
            // The supervisor's lines are never dropped, and keep their place.
            log.write("error", "died: error 301")
            log.output("stderr", "one more")
            log.write("warn", "after", call: "7")
            #expect(log.droppedLines == 92)
        }
        log.output("stdout", "caught up")
        log.flush()
        let note = "(the plugin wrote faster than its log is written)"
        #expect(
            try Self.lines(log)
                == (0..<10).map { "INFO p [stdout] line \($0)" } + [
                    "WARN p dropped 90 lines of output \(note)", "ERROR p died: error 301",
                    "WARN p dropped 2 lines of output \(note)", "INFO p [stdout] caught up",
                ])
        // What was dropped from the file is still evidence of a death.
        #expect(log.takeStderrTail() == "one more")
    }

    @Test func theBoundCountsBytesToo() throws {
        let log = PluginLog(directory: Self.directory(), plugin: "p", queueBytes: 100)
        let line = String(repeating: "x", count: 40)
        whileTheWriterIsHeld(log) {
            for _ in 0..<5 { log.output("stdout", line) }
        }
        #expect(log.droppedLines == 3)
        #expect(try Self.lines(log) == ["INFO p [stdout] \(line)", "INFO p [stdout] \(line)", "WARN p dropped 3 lines of output (the plugin wrote faster than its log is written)"])
    }

    @Test func writesFromManyThreadsKeepEachThreadsOrder() throws {
        let log = PluginLog(directory: Self.directory(), plugin: "p", queueLines: 100_000, queueBytes: 64 << 20)
        let threads = 8
        let perThread = 2000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                if index % 2 == 0 { log.output("stdout", "\(thread) \(index)") } else { log.write("info", "\(thread) \(index)") }
            }
        }
        log.flush()
        var seen = [[Int]](repeating: [], count: threads)
        for line in try Self.lines(log) {
            let words = line.split(separator: " ")
            seen[Int(words[words.count - 2])!].append(Int(words[words.count - 1])!)
        }
        #expect(seen == [[Int]](repeating: Array(0..<perThread), count: threads))
        #expect(log.droppedLines == 0)
    }

    @Test func theLineReaderSplitsReadsIntoLinesAndCutsLongOnes() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let lines = Mutex<[String]>([])
        let finished = DispatchSemaphore(value: 0)
        LineReader.attach(ends[0], stream: "stderr", group: MultiThreadedEventLoopGroup.singleton) { stream, line in
            if line == "end" { finished.signal() } else { lines.withLock { $0.append("\(stream) \(line)") } }
        }
        let x = { (count: Int) in String(repeating: "x", count: count) }
        // Read in whatever pieces the pipe gives: the lines are the same.
        for piece in ["ab", "c\n\nd", "ef\n" + x(10_000), x(30_000) + "\nend\n"] {
            let written = piece.utf8CString.withUnsafeBytes { Glibc.write(ends[1], $0.baseAddress, $0.count - 1) }
            #expect(written == piece.utf8.count)
        }
        close(ends[1])
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                finished.wait()
                done.resume()
            }
        }
        let cut = x(LineReader.maximumLine)
        #expect(lines.withLock { $0 } == ["abc", "", "def", cut, cut, x(40_000 - 2 * LineReader.maximumLine)].map { "stderr \($0)" })
    }
}
