import Foundation
@testable import PaddockSupervisor
import Testing

@Suite struct PluginLogTests {
    @Test func linesCarryTimeLevelPluginAndCallAndRotate() throws {
        let directory = NSTemporaryDirectory() + "paddock-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = PluginLog(directory: directory, plugin: "notes", maximumBytes: 2000, keep: 2)
        log.write("info", "first", call: "7")
        let first = try String(contentsOfFile: log.path, encoding: .utf8)
        #expect(first.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO notes call=7 first\n$"#, options: .regularExpression) != nil, "\(first)")
        for index in 0..<200 { log.write("warn", "line \(index)") }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["notes.log", "notes.log.1", "notes.log.2"])
        let size = try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int ?? .max
        #expect(size <= 2000)
        #expect(try String(contentsOfFile: log.path, encoding: .utf8).contains("line 199"))
    }

    @Test func stderrTailIsKeptForClassification() {
        let log = PluginLog(directory: NSTemporaryDirectory() + "paddock-log-\(UUID().uuidString)", plugin: "p")
        log.output("stdout", "hello")
        log.output("stderr", "MemoryError")
        #expect(log.takeStderrTail() == "MemoryError")
        #expect(log.takeStderrTail() == "")
    }
}
