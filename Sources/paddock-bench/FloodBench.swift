import Foundation
import Glibc
import PaddockCore
import PaddockSupervisor

/// `paddock-bench flood [--calls N]`: echo tool calls to a Python plugin,
/// alone and then while a second plugin in the same engine writes lines to
/// its stderr as fast as it can (the supervisor reads and logs every one).
func floodBench(_ arguments: ArraySlice<String>) async {
    let calls = integerOption("--calls", in: arguments, default: 5000)
    do {
        let data = scratchDirectory("flood")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (engine, id, _) = try await startEcho(in: data)
        let echo = { _ = try await engine.invokeTool(id, tool: "echo", arguments: echoArguments) }
        let quiet = try await sequential(calls, echo)

        let flooder = try await engine.load(
            directory: try writeBenchPlugin(
                in: data, name: "bench-flood", manifest: "tools: [{provider: bench, items: [{name: idle}]}]",
                code: """
                    import sys, threading

                    def flood():
                        while True:
                            sys.stderr.write("flood: a line on stderr, written as fast as the plugin can\\n")

                    threading.Thread(target=flood, daemon=True).start()
                    plugin.tool("idle")(lambda params, context: None)
                    """))
        try await engine.start(flooder)
        try await Task.sleep(for: .milliseconds(500))
        let (writtenBefore, started) = (try await stderrBytes(engine, flooder), DispatchTime.now().uptimeNanoseconds)
        let flooded = try await sequential(calls, echo)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let floodRate = Double(try await stderrBytes(engine, flooder) - writtenBefore) / seconds / 1e6
        let status = try await engine.status(flooder)

        print("== stderr flood: \(calls) echo tool calls to a Python plugin, alone, then while another plugin in the same engine floods its stderr")
        print(pad("", 28) + pad("p50 µs", 10) + pad("p99 µs", 10) + pad("calls/s", 10) + pad("p50 / quiet", 13) + pad("p99 / quiet", 13))
        for (label, result) in [("echo tool, quiet", quiet), ("echo tool, during flood", flooded)] {
            print(
                pad(label, 28) + number(result.p50) + number(result.p99) + number(result.perSecond)
                    + number(result.p50 / quiet.p50, decimals: 2, width: 13) + number(result.p99 / quiet.p99, decimals: 2, width: 13))
        }
        print("the flooding plugin wrote \(String(format: "%.1f", floodRate)) MB/s to stderr meanwhile (\(status.state), \(status.restarts) restarts)")
        print("echo tool call p50 during flood ÷ quiet = \(String(format: "%.2f", flooded.p50 / quiet.p50)), p99 ÷ quiet = \(String(format: "%.2f", flooded.p99 / quiet.p99))")
        await engine.shutdown()
    } catch {
        print("paddock-bench flood: \(error)")
        exit(1)
    }
}

/// What the plugin's process has written so far (`wchar` in /proc/PID/io), all on stderr here.
private func stderrBytes(_ engine: Engine, _ id: String) async throws -> Int {
    guard let pid = try await engine.status(id).pid,
        let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8),
        let line = io.split(separator: "\n").first(where: { $0.hasPrefix("wchar:") })
    else { return 0 }
    return Int(line.dropFirst("wchar:".count).trimmingCharacters(in: .whitespaces)) ?? 0
}
