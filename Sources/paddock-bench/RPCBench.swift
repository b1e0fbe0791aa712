import Foundation
import Glibc
import NIOCore
import PaddockCore
import PaddockSupervisor

/// `paddock-bench rpc [--calls N]`: round trips to a sandboxed Python plugin
/// through the engine (`ping`, an echo tool call; one at a time and 8 in
/// flight) next to a raw socketpair ping-pong of the same message size in
/// this process; then spawn-to-ready of a Python plugin next to `python3 -c pass`.
/// The echo call is measured twice: started from the event loop, as
/// paddockd's control server starts it (the issue's target), and awaited
/// from a Swift Task, which adds a hop to the loop and back.
func rpcBench(_ arguments: ArraySlice<String>) async {
    let calls = integerOption("--calls", in: arguments, default: 5000)
    let native = arguments.contains("--swift")
    do {
        let data = scratchDirectory("rpc")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (engine, id, configuration) = try await startEcho(in: data, native: native)
        let message = echoArguments
        let frameSize = RPCFrameSize.echo(message)
        let raw = rawPingPong(bytes: frameSize, rounds: calls)
        let ping = try await sequential(calls) { try await engine.ping(id) }
        let echoAwaited = try await sequential(calls) { _ = try await engine.invokeTool(id, tool: "echo", arguments: message) }
        let echo = try await sequentialOnLoop(calls) { try engine.startTool(id, tool: "echo", arguments: message).result }
        let pingParallel = try await parallel(calls, width: 8) { try await engine.ping(id) }
        let echoParallel = try await parallel(calls, width: 8) { _ = try await engine.invokeTool(id, tool: "echo", arguments: message) }

        let language = native ? "Swift (PaddockPluginKit)" : "Python"
        print("== rpc: \(calls) round trips each, ~\(frameSize) B frames, host in Swift, plugin in \(language) under paddock-sandbox")
        print(pad("", 28) + pad("p50 µs", 10) + pad("p99 µs", 10) + pad("calls/s", 10) + pad("p50 / raw", 11))
        let base = raw.p50
        for (label, result) in [
            ("raw socketpair ping-pong", raw), ("ping, awaited", ping), ("echo tool, from the loop", echo),
            ("echo tool, awaited", echoAwaited),
        ] {
            print(pad(label, 28) + number(result.p50) + number(result.p99) + number(result.perSecond) + number(result.p50 / base, decimals: 1, width: 11))
        }
        for (label, perSecond) in [("ping, 8 in flight", pingParallel), ("echo tool, 8 in flight", echoParallel)] {
            print(pad(label, 28) + pad("-", 10) + pad("-", 10) + number(perSecond) + number(perSecond / raw.perSecond, decimals: 2, width: 11) + "  (calls/s ratio to raw)")
        }
        let placement = pinnedCPUs().map { "pinned to \($0) CPU(s): the target is for unpinned" } ?? "target ≤ 3, goal 2"
        print("echo tool call p50 ÷ raw socketpair p50 = \(String(format: "%.2f", echo.p50 / raw.p50)) (\(placement))")
        // Kill to serving: SIGKILL the plugin, time until a call succeeds again.
        var recoveries: [UInt64] = []
        for _ in 0..<5 {
            guard let pid = try await engine.status(id).pid else { break }
            let killed = DispatchTime.now().uptimeNanoseconds
            kill(pid, SIGKILL)
            let giveUp = killed + 30_000_000_000
            while (try? await engine.invokeTool(id, tool: "echo", arguments: message)) == nil,
                DispatchTime.now().uptimeNanoseconds < giveUp
            {}
            guard DispatchTime.now().uptimeNanoseconds < giveUp else {
                print("kill -9 to serving again: the plugin did not come back within 30 s (\(try await engine.status(id).state))")
                break
            }
            recoveries.append(DispatchTime.now().uptimeNanoseconds - killed)
            try await Task.sleep(for: .milliseconds(200))
        }
        print(pad("kill -9 to serving again", 28) + number(median(recoveries) / 1e6, decimals: 1, width: 10) + "ms (median of 5 kills in a row: the backoff doubles from 100 ms)")
        await engine.shutdown()
        guard !native else { return }

        // Spawn to ready: a fresh plugin each time, against bare python3 -c pass.
        var bare: [UInt64] = []
        var ready: [UInt64] = []
        for round in 0..<10 {
            if let time = spawnToExit([configuration.python, "-c", "pass"]) { bare.append(time) }
            let fresh = Engine(configuration: configuration)
            let started = DispatchTime.now().uptimeNanoseconds
            let copy = try benchPlugin(in: data, suffix: "\(round)")
            let freshID = try await fresh.load(directory: copy)
            try await fresh.start(freshID)
            ready.append(DispatchTime.now().uptimeNanoseconds - started)
            await fresh.shutdown()
        }
        print("== spawn to ready: 10 starts each")
        print(pad("", 28) + pad("median ms", 11) + pad("ratio", 8))
        print(pad("python3 -c pass", 28) + number(median(bare) / 1e6, decimals: 2, width: 11) + number(1, decimals: 1, width: 8))
        print(pad("python plugin, ready", 28) + number(median(ready) / 1e6, decimals: 2, width: 11) + number(median(ready) / median(bare), decimals: 1, width: 8))
    } catch {
        print("paddock-bench rpc: \(error)")
        exit(1)
    }
}

/// `--name N` from the arguments, or `fallback`.
func integerOption(_ name: String, in arguments: ArraySlice<String>, default fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.endIndex else { return fallback }
    return Int(arguments[index + 1]) ?? fallback
}

/// A data directory for a bench engine that plugin uids can traverse.
func scratchDirectory(_ name: String) -> String {
    let data = "/tmp/paddock-bench-\(name)-\(getpid())"
    mkdir(data, 0o700)
    return data
}

/// The echo tool's arguments: ~100 bytes of text.
let echoArguments = JSONValue.object(["text": .string(String(repeating: "x", count: 100))])

/// An engine over `data` (heartbeats off) with the echo plugin started:
/// Python with 8 workers, or examples/echo-swift when `native`.
func startEcho(in data: String, native: Bool = false) async throws -> (Engine, id: String, EngineConfiguration) {
    var configuration = try EngineConfiguration.locate(dataDirectory: data)
    configuration.heartbeatInterval = .seconds(3600)
    let engine = Engine(configuration: configuration)
    let id = try await engine.load(directory: native ? swiftExample() : try benchPlugin(in: data))
    try await engine.start(id)
    return (engine, id, configuration)
}

/// How many CPUs this process may run on, when fewer than the machine has
/// (`taskset`): the bits of `Cpus_allowed` in /proc/self/status.
private func pinnedCPUs() -> Int? {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
    let allowed = line.dropFirst("Cpus_allowed:".count).compactMap { $0.hexDigitValue?.nonzeroBitCount }.reduce(0, +)
    return allowed < sysconf(Int32(_SC_NPROCESSORS_ONLN)) ? allowed : nil
}

struct Latencies {
    var p50: Double
    var p99: Double
    var perSecond: Double
}

func sequential(_ count: Int, _ body: () async throws -> Void) async throws -> Latencies {
    for _ in 0..<min(200, count) { try await body() }  // warm up
    var samples: [UInt64] = []
    samples.reserveCapacity(count)
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<count {
        let before = DispatchTime.now().uptimeNanoseconds
        try await body()
        samples.append(DispatchTime.now().uptimeNanoseconds - before)
    }
    let total = Double(DispatchTime.now().uptimeNanoseconds - start)
    return latencies(samples, total: total)
}

/// Calls made one after the other from the event loop the results arrive
/// on: each starts in the callback of the one before, with no Task between.
func sequentialOnLoop(_ count: Int, _ start: @escaping @Sendable () throws -> EventLoopFuture<[UInt8]>) async throws -> Latencies {
    let warmUp = min(200, count)
    let first = try start()
    let done = first.eventLoop.makePromise(of: Latencies.self)
    first.eventLoop.execute {
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        var began: UInt64 = 0
        func next(_ round: Int) {
            if round == warmUp { began = DispatchTime.now().uptimeNanoseconds }
            guard round < warmUp + count else {
                return done.succeed(latencies(samples, total: Double(DispatchTime.now().uptimeNanoseconds - began)))
            }
            let before = DispatchTime.now().uptimeNanoseconds
            do {
                try start().assumeIsolated().whenComplete { result in
                    if case .failure(let error) = result { return done.fail(error) }
                    if round >= warmUp { samples.append(DispatchTime.now().uptimeNanoseconds - before) }
                    next(round + 1)
                }
            } catch {
                done.fail(error)
            }
        }
        first.assumeIsolated().whenComplete { _ in next(0) }
    }
    return try await done.futureResult.get()
}

private func parallel(_ count: Int, width: Int, _ body: @escaping @Sendable () async throws -> Void) async throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<width {
            group.addTask { for _ in 0..<(count / width) { try await body() } }
        }
        try await group.waitForAll()
    }
    return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// Blocking write/read round trips between two threads over a socketpair.
private func rawPingPong(bytes: Int, rounds: Int) -> Latencies {
    var fds: [Int32] = [0, 0]
    socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds)
    let (near, far) = (fds[0], fds[1])
    let total = rounds + 200
    let echo = Thread {
        var buffer = [UInt8](repeating: 0, count: bytes)
        for _ in 0..<total {
            var got = 0
            while got < bytes { got += buffer.withUnsafeMutableBytes { read(far, $0.baseAddress! + got, bytes - got) } }
            _ = write(far, buffer, bytes)
        }
    }
    echo.start()
    var buffer = [UInt8](repeating: 0x61, count: bytes)
    var samples: [UInt64] = []
    var start: UInt64 = 0
    for round in 0..<total {
        if round == 200 { start = DispatchTime.now().uptimeNanoseconds }
        let before = DispatchTime.now().uptimeNanoseconds
        _ = write(near, buffer, bytes)
        var got = 0
        while got < bytes { got += buffer.withUnsafeMutableBytes { read(near, $0.baseAddress! + got, bytes - got) } }
        if round >= 200 { samples.append(DispatchTime.now().uptimeNanoseconds - before) }
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
    close(near)
    close(far)
    return latencies(samples, total: elapsed)
}

private func latencies(_ samples: [UInt64], total: Double) -> Latencies {
    let sorted = samples.sorted()
    return Latencies(
        p50: Double(sorted[sorted.count / 2]) / 1000,
        p99: Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1000,
        perSecond: Double(samples.count) / (total / 1e9))
}

func pad(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(1, width - text.count))
}

func number(_ value: Double, decimals: Int = 0, width: Int = 10) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    let text = decimals == 0 ? String(Int(rounded)) : String(rounded)
    return pad(text, width)
}

/// The size of the echo call's request frame, for the raw baseline.
enum RPCFrameSize {
    static func echo(_ arguments: JSONValue) -> Int {
        let params = JSONValue.object(["tool": .string("echo"), "params": arguments]).jsonText
        return #"{"jsonrpc":"2.0","id":1000,"method":"tool.invoke","params":"#.utf8.count + params.utf8.count + 2
    }
}

/// examples/echo-swift in the Paddock checkout the configuration found.
private func swiftExample() -> String {
    let executable = EngineConfigurationPaths.executableDirectory
    var directory = executable
    for _ in 0..<6 {
        if access(directory + "/examples/echo-swift/manifest.yaml", R_OK) == 0 { return directory + "/examples/echo-swift" }
        directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
    }
    return "examples/echo-swift"
}

enum EngineConfigurationPaths {
    static var executableDirectory: String {
        guard let path = realpath("/proc/self/exe", nil) else { return "." }
        defer { free(path) }
        let text = String(cString: path)
        return String(text[..<(text.lastIndex(of: "/") ?? text.endIndex)])
    }
}

/// A plugin with an echo tool and 8 workers, written under the data directory.
private func benchPlugin(in data: String, suffix: String = "") throws -> String {
    try writeBenchPlugin(
        in: data, name: "bench-echo" + (suffix.isEmpty ? "" : "-" + suffix),
        manifest: """
            resource: {workers: 8}
            tools: [{provider: bench, items: [{name: echo, parameters: [{name: text, type: string}]}]}]
            """,
        code: "@plugin.tool('echo')\ndef echo(params, context):\n    return params\n")
}

/// Writes a Python plugin `name` under the data directory, readable by plugin
/// uids: `manifest` is the YAML after the identity lines, `code` the handlers.
func writeBenchPlugin(in data: String, name: String, manifest: String, code: String) throws -> String {
    let directory = data + "/" + name
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    chmod(directory, 0o755)
    let identity = """
        name: \(name)
        author: paddock
        version: "1.0.0"
        type: tool
        description: a benchmark plugin
        runner: {language: python, entrypoint: main.py}

        """
    try (identity + manifest + "\n").write(toFile: directory + "/manifest.yaml", atomically: true, encoding: .utf8)
    try ("from paddock_plugin import Plugin\nplugin = Plugin()\n" + code).write(toFile: directory + "/main.py", atomically: true, encoding: .utf8)
    for file in ["manifest.yaml", "main.py"] { chmod(directory + "/" + file, 0o644) }
    return directory
}
