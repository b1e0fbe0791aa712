import Foundation
import Glibc
import PaddockCore
import PaddockSupervisor

/// `paddock-bench dify [--calls N] [--plugin DIR] [--tool T] [--driver PATH]`:
/// a Dify plugin (written with the official SDK) called through Paddock — the
/// engine, the `paddock_dify` bridge, the plugin, all under the sandbox —
/// next to the bare stdio driver (`Tests/bench/dify_driver.py`, what Dify's
/// daemon does, no sandbox) talking to the same copy of the same plugin with
/// the same interpreter and libraries, in the same run. The Paddock call is
/// started from the event loop, as paddockd's control server starts it
/// (the target), and awaited from a Swift Task (a hop more). Then cold starts
/// (spawn to the first heartbeat, bare; spawn to ready, Paddock).
func difyBench(_ arguments: ArraySlice<String>) async {
    let calls = integerOption("--calls", in: arguments, default: 500)
    let plugin = stringOption("--plugin", in: arguments, default: repositoryPath("Tests/dify-plugins/dify_messages"))
    let tool = stringOption("--tool", in: arguments, default: "echo")
    let driver = stringOption("--driver", in: arguments, default: repositoryPath("Tests/bench/dify_driver.py"))
    let params = JSONValue.object(["text": .string(String(repeating: "x", count: 100))])
    do {
        let data = scratchDirectory("dify")
        defer { try? FileManager.default.removeItem(atPath: data) }
        var configuration = try EngineConfiguration.locate(dataDirectory: data)
        configuration.heartbeatInterval = .seconds(3600)
        // The SDK's environment is installed once per machine, as `paddock run` keeps it.
        configuration.environmentsDirectory = (ProcessInfo.processInfo.environment["HOME"] ?? "/root") + "/.cache/paddock/envs"
        try FileManager.default.createDirectory(atPath: configuration.environmentsDirectory, withIntermediateDirectories: true)
        let engine = Engine(configuration: configuration)
        let id = try await engine.load(directory: plugin)
        try await engine.installRequirements(id) { _ in }
        guard let python = try await engine.environmentInterpreter(id) else {
            print("paddock-bench dify: \(plugin) has no requirements")
            exit(1)
        }
        var starts: [UInt64] = []
        for _ in 0..<3 {
            let started = DispatchTime.now().uptimeNanoseconds
            try await engine.start(id)
            starts.append(DispatchTime.now().uptimeNanoseconds - started)
            try await engine.stop(id)
        }
        try await engine.start(id)
        // Interleaved rounds, so that the machine's drift falls on both alike; the medians of their p50s.
        let rounds = 5
        let perRound = max(100, calls / rounds)
        var bare: [(p50: Double, p99: Double, coldStart: Double)] = []
        var paddock: [Latencies] = []
        var awaited: [Latencies] = []
        for _ in 0..<rounds {
            bare.append(try bareDriver(driver, python: python, plugin: plugin, tool: tool, params: params, calls: perRound))
            // Started from the event loop, as paddockd's control server starts a call.
            paddock.append(try await sequentialOnLoop(perRound) { try engine.startTool(id, tool: tool, arguments: params).result })
            awaited.append(try await sequential(perRound) { _ = try await engine.invokeTool(id, tool: tool, arguments: params) })
        }
        await engine.shutdown()

        let baseline = median(bare.map(\.p50))
        print("== dify: \(rounds) interleaved rounds of \(perRound) sequential calls of \(tool) (~100 B), dify-plugin SDK, same plugin, interpreter and libraries; medians")
        print(pad("", 34) + pad("p50 µs", 10) + pad("p99 µs", 10) + pad("p50 / bare", 11))
        print(pad("bare stdio driver (no sandbox)", 34) + number(baseline) + number(median(bare.map(\.p99))) + number(1, decimals: 2, width: 11))
        var ratio = 0.0
        for (label, results) in [("Paddock, from the loop (paddockd)", paddock), ("Paddock, awaited from a Task", awaited)] {
            let p50 = median(results.map(\.p50))
            if ratio == 0 { ratio = p50 / baseline }
            print(pad(label, 34) + number(p50) + number(median(results.map(\.p99))) + number(p50 / baseline, decimals: 2, width: 11))
        }
        print("dify call p50 through Paddock ÷ bare driver p50 = \(String(format: "%.2f", ratio)) (target ≤ 1.5)")
        print(pad("cold start, bare (to heartbeat)", 34) + number(median(bare.map(\.coldStart)), decimals: 0, width: 10) + "ms  (median of \(rounds))")
        print(pad("cold start, Paddock (to ready)", 34) + number(median(starts) / 1e6, decimals: 0, width: 10) + "ms  (median of 3; sandbox, bridge, then the plugin's first heartbeat)")
    } catch {
        print("paddock-bench dify: \(error)")
        exit(1)
    }
}

/// What the bare driver measured: `{"p50_us", "p99_us", "cold_start_ms"}`.
private func bareDriver(_ driver: String, python: String, plugin: String, tool: String, params: JSONValue, calls: Int) throws
    -> (p50: Double, p99: Double, coldStart: Double)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [driver, "--python", python, "--plugin", plugin, "bench", tool, "--params", params.jsonText, "--calls", String(calls)]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let bytes = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let report = try JSONValue(parsing: Array(bytes))
    func value(_ key: String) -> Double {
        switch report[key] {
        case .int(let number)?: Double(number)
        case .double(let number)?: number
        default: .nan
        }
    }
    return (value("p50_us"), value("p99_us"), value("cold_start_ms"))
}

/// `--name VALUE` from the arguments, or `fallback`.
func stringOption(_ name: String, in arguments: ArraySlice<String>, default fallback: String) -> String {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.endIndex else { return fallback }
    return arguments[index + 1]
}

/// A path in this checkout (the bench runs from its root, as `make bench` does).
private func repositoryPath(_ relative: String) -> String {
    FileManager.default.currentDirectoryPath + "/" + relative
}
