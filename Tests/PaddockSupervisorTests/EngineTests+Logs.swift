import PaddockCore
import PaddockSupervisor
import Testing

extension EngineTests {
    static let flooder = """
        import threading
        flooding = threading.Event()

        def pour():
            lines = (b"x" * 100 + b"\\n") * 100
            written = 0
            while True:
                os.write(2, lines)
                written += 100
                if written >= 100_000:
                    flooding.set()

        @plugin.tool("flood")
        def flood(params, context):
            threading.Thread(target=pour, daemon=True).start()
            flooding.wait()
            return {"flooding": True}

        @plugin.tool("echo")
        def echo(params, context):
            return params

        """

    /// Its log is written off the event loops: a plugin pouring out stderr
    /// loses lines of its own, and its neighbour's calls go on.
    @Test func aPluginFloodingStderrDoesNotStopAnotherFromServing() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let flooder = try await engine.load(directory: try TestPlugin.write(name: "flooder", tools: ["flood", "echo"], code: Self.flooder))
        let quiet = try await engine.load(directory: try TestPlugin.write(name: "quiet", tools: ["flood", "echo"], code: Self.flooder))
        try await engine.start(flooder)
        try await engine.start(quiet)
        // Answered once it has written 100,000 lines, and it goes on writing.
        #expect(try await engine.invokeTool(flooder, tool: "flood", arguments: [:]) == Array(#"{"flooding":true}"#.utf8))
        for index in 0..<200 {
            let answer = try await engine.invokeTool(quiet, tool: "echo", arguments: ["n": .int(index)])
            #expect(answer == Array(#"{"n":\#(index)}"#.utf8))
        }
        #expect(try await engine.invokeTool(flooder, tool: "echo", arguments: ["still": true]) == Array(#"{"still":true}"#.utf8))
        let status = try await engine.status(flooder)
        #expect(status.state == .running && status.restarts == 0, "\(String(describing: status.lastDeath))")
        #expect(try await engine.status(quiet).droppedLogLines == 0)
    }
}
