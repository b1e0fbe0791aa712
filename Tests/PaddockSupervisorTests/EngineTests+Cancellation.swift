import Foundation
import PaddockCore
@testable import PaddockSupervisor
import PaddockTestSupport
import Testing

/// Calls cancelled by their caller wherever they are: queued for a worker,
/// or in the plugin (which then gets `$/cancel`).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CallCancellationTests {
    static func calls(_ engine: Engine, _ id: String, containing text: String) async throws -> Int {
        await LogWriter.shared.flush()
        let log = (try? String(contentsOfFile: try await engine.logPath(id), encoding: .utf8)) ?? ""
        return log.components(separatedBy: text).count - 1
    }

    @Test func aCallQueuedForAWorkerThatIsCancelledNeverReachesThePlugin() async throws {
        let engine = try TestPlugin.engine()
        let id = try await engine.load(directory: try HostilePlugin.write(name: "stubborn"))
        try await engine.start(id)
        defer { Task { await engine.terminate() } }
        // The plugin's four workers are busy with calls it never answers.
        let busy = (0..<4).map { _ in Task { _ = try? await engine.invokeTool(id, tool: "wait", arguments: [:]) } }
        defer { busy.forEach { $0.cancel() } }
        while try await Self.calls(engine, id, containing: "waits forever") < 4 { try await Task.sleep(for: .milliseconds(10)) }
        let queued = Task { try await engine.invokeTool(id, tool: "wait", arguments: [:]) }
        queued.cancel()
        let error = await #expect(throws: PaddockError.self) { try await queued.value }
        #expect(error?.code == .timedOut, "\(String(describing: error))")
        #expect(try await engine.status(id).inFlight == 4)
        #expect(try await Self.calls(engine, id, containing: "waits forever") == 4, "the cancelled call never reached the plugin")
    }

    @Test func aCallInThePluginThatIsCancelledSendsItCancel() async throws {
        let engine = try TestPlugin.engine()
        let id = try await engine.load(directory: try HostilePlugin.write(name: "stubborn"))
        try await engine.start(id)
        defer { Task { await engine.terminate() } }
        let call = Task { try await engine.invokeTool(id, tool: "wait", arguments: [:]) }
        while try await Self.calls(engine, id, containing: "waits forever") < 1 { try await Task.sleep(for: .milliseconds(10)) }
        call.cancel()
        let error = await #expect(throws: PaddockError.self) { try await call.value }
        #expect(error?.code == .timedOut)
        while try await Self.calls(engine, id, containing: "received $/cancel") < 1 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await engine.status(id).state == .running, "a cancel the plugin answered does not restart it")
        #expect(try await engine.status(id).inFlight == 0)
    }
}
