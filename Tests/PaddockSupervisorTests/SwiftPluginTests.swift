import Foundation
import Glibc
import PaddockCore
import PaddockSupervisor
import PaddockTestSupport
import Synchronization
import Testing

/// The Swift example plugin (PaddockPluginKit, under strict.yaml) through
/// the same protocol paths as the Python ones.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SwiftPluginTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/echo-swift").path

    private func started(_ adjust: (inout EngineConfiguration) -> Void = { _ in }) async throws -> (Engine, String) {
        let engine = try TestPlugin.engine(adjust)
        let id = try await engine.load(directory: Self.example)
        try await engine.start(id)
        return (engine, id)
    }

    @Test func invokesStreamsAndServesItsEndpoint() async throws {
        let (engine, id) = try await started()
        defer { Task { await engine.shutdown() } }
        #expect(try await engine.invokeTool(id, tool: "echo", arguments: ["text": "hi"]) == Array(#"{"text":"hi"}"#.utf8))
        let chunks = Mutex<[String]>([])
        let result = try await engine.invokeTool(id, tool: "count", arguments: ["n": 3]) { chunk in
            chunks.withLock { $0.append(String(decoding: chunk, as: UTF8.self)) }
        }
        #expect(result == Array(#"{"chunks":3}"#.utf8))
        #expect(chunks.withLock { $0 } == [#"{"number":1}"#, #"{"number":2}"#, #"{"number":3}"#])
        let response = try JSONValue(parsing: try await engine.invokeEndpoint(id, method: .GET, path: "/hello", query: ["name": "Ada"]))
        #expect(response["status"] == 200)
        #expect(Base64.decode(response["body"]?.stringValue ?? "").map { String(decoding: $0, as: UTF8.self) } == #"{"greeting":"Hello, Ada!"}"#)
        let missing = await #expect(throws: PaddockError.self) { try await engine.invokeTool(id, tool: "count", arguments: [:]) }
        #expect(missing?.code == .configurationMissing)
    }

    @Test func deadlineCancelsTheCallAndThePluginServesTheNext() async throws {
        let (engine, id) = try await started { $0.callTimeout = .milliseconds(300) }
        defer { Task { await engine.shutdown() } }
        let pid = try await engine.status(id).pid
        let error = await #expect(throws: PaddockError.self) { try await engine.invokeTool(id, tool: "sleep", arguments: ["seconds": 5]) }
        let log = (try? String(contentsOfFile: try await engine.logPath(id), encoding: .utf8)) ?? ""
        #expect(error?.code == .timedOut, "\(String(describing: error)); the plugin's log:\n\(log)")
        #expect(try await engine.invokeTool(id, tool: "echo", arguments: [:]) == Array("{}".utf8))
        #expect(try await engine.status(id).pid == pid, "the cancellation was honoured: no restart")
    }

    @Test func killedDuringACallIs305AndComesBack() async throws {
        let (engine, id) = try await started()
        defer { Task { await engine.shutdown() } }
        let pid = try #require(try await engine.status(id).pid)
        async let call: PaddockError? = {
            do {
                _ = try await engine.invokeTool(id, tool: "sleep", arguments: ["seconds": 10])
                return nil
            } catch { return error as? PaddockError }
        }()
        try await Task.sleep(for: .milliseconds(200))
        kill(pid, SIGKILL)
        let failure = await call
        #expect(failure?.code == .pluginCrashed, "\(String(describing: failure))")
        #expect(try await engine.invokeTool(id, tool: "echo", arguments: ["again": true]) == Array(#"{"again":true}"#.utf8))
        let status = try await engine.status(id)
        #expect(status.restarts == 1, "\(status.restarts) restarts, last death \(String(describing: status.lastDeath))")
    }

    /// Under load, libdispatch's thread-pool monitor reads /proc/<tid>/stat of
    /// the plugin's worker threads every second and traps (SIGILL) when the
    /// sandbox hides them: the profiles let a plugin read /proc.
    @Test func manyConcurrentCallsForSecondsDoNotKillIt() async throws {
        let (engine, id) = try await started()
        defer { Task { await engine.shutdown() } }
        let deadline = ContinuousClock.now + .seconds(4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    while ContinuousClock.now < deadline {
                        _ = try await engine.invokeTool(id, tool: "echo", arguments: ["text": "load"])
                    }
                }
            }
            try await group.waitForAll()
        }
        let status = try await engine.status(id)
        #expect(status.restarts == 0, "died: \(String(describing: status.lastDeath))")
    }
}
