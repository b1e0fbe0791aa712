import Glibc
import Logging
import PaddockCore
import PaddockLogging
@testable import PaddockSupervisor
import Testing

/// paddockd's and the gateway's log lines.
@Suite struct LineLogHandlerTests {
    @Test func aNoticeWithoutMetadataIsTheBareLineScriptsWaitFor() {
        #expect(LineLogHandler.line(label: "paddockd", level: .notice, message: "serving /d/paddockd.sock", metadata: [:])
            == "paddockd: serving /d/paddockd.sock\n")
        #expect(LineLogHandler.line(label: "paddockd", level: .info, message: "stopped", metadata: [:]) == "paddockd: stopped\n")
    }

    @Test func otherLevelsAreNamedAndMetadataIsSortedAndQuotedWhereNeeded() {
        let line = LineLogHandler.line(
            label: "paddockd", level: .warning, message: "not restored",
            metadata: ["plugin": "notes", "error": "python3.12 \"not\" found", "code": "105", "empty": ""])
        #expect(line == #"paddockd: warning: not restored code=105 empty="" error="python3.12 \"not\" found" plugin=notes"# + "\n")
        #expect(LineLogHandler.line(label: "g", level: .debug, message: "x", metadata: ["path": "/a=b\\c"]) == #"g: debug: x path="/a=b\\c""# + "\n")
    }

    @Test func noTextCanForgeALine() {
        let line = LineLogHandler.line(
            label: "paddockd", level: .info, message: "one\nparadise: two\u{7}", metadata: ["error": "a\nb", "tab": "\t"])
        #expect(line == #"paddockd: one\nparadise: two\x07 error=a\nb tab=\t"# + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    @Test func aLoggerWritesOneLinePerEventWithItsMetadata() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        var logger = Logger(label: "paddockd") { LineLogHandler(label: $0, level: .info, fileDescriptor: ends[1]) }
        logger = logger.plugin("notes")
        logger.debug("hidden")
        logger.info("started", metadata: .process(generation: 2, pid: 4242))
        logger.warning("died", metadata: .call("7", requestID: "abc"))
        close(ends[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while case let count = read(ends[0], &chunk, chunk.count), count > 0 { bytes += chunk[..<count] }
        #expect(String(decoding: bytes, as: UTF8.self) == """
            paddockd: started generation=2 pid=4242 plugin=notes
            paddockd: warning: died call=7 plugin=notes request_id=abc

            """)
    }

    @Test(arguments: [("debug", Logger.Level.debug), ("WARN", .warning), ("Warning", .warning), ("critical", .critical)])
    func levelsReadAsOperatorsWriteThem(name: String, level: Logger.Level) throws {
        #expect(Logger.Level(name: name) == level)
        #expect(try Logger.Level.configured(option: name) == level)
    }

    @Test func anUnknownLevelIs102NamingTheOption() {
        let error = #expect(throws: PaddockError.self) { try Logger.Level.configured(option: "loud") }
        #expect(error?.code == .wrongFormat && error?.field == "--log-level")
    }
}
