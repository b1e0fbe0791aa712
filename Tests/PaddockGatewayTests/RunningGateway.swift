import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport

/// A real `paddockd` and a real `paddock-gateway` in front of it, on a fresh
/// data directory and a free port; both are killed at the end. Their logs
/// (standard error) are in ``daemonLog`` (paddockd at `debug`) and ``gatewayLog``.
final class RunningGateway {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ name: String) -> String { repository.appendingPathComponent("examples/\(name)").path }

    let data: String
    private(set) var daemon: Background
    private(set) var gateway: Background
    let port: Int
    private(set) var admin = ""

    /// paddockd's options beyond `--data`.
    private let daemonOptions: [String]

    /// Starts both; `config` is the gateway.yaml text, if any; `weather`, a
    /// stand-in weather service the weather plugin may reach; `options`, more of paddockd's.
    init(weather: FakeWeather? = nil, config: String? = nil, options: [String] = []) throws {
        data = "/tmp/paddock-gateway-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(data, 0o700)
        daemonOptions = (weather.map { ["--allow-host-port", "weather-forecast=\($0.port)"] } ?? []) + options
        daemon = try Self.startDaemon(data, daemonOptions)
        var arguments = ["--supervisor", data + "/paddockd.sock", "--listen", "127.0.0.1:0"]
        if let config {
            try config.write(toFile: data + "/gateway.yaml", atomically: true, encoding: .utf8)
            arguments += ["--config", data + "/gateway.yaml"]
        }
        gateway = try Background(ProcessRunner.product("paddock-gateway"), arguments, errors: data + "/gateway.err")
        var found: Int?
        for _ in 0..<20 {
            let line = gateway.nextLine()
            if let range = line.range(of: "listening on http://127.0.0.1:") { found = Int(line[range.upperBound...]) }
            if found != nil || line.isEmpty { break }
        }
        guard let found else { throw PaddockError(.pluginUnavailable, "the gateway did not say where it listens") }
        port = found
        admin = try key("--admin")
    }

    static func startDaemon(_ data: String, _ options: [String]) throws -> Background {
        let process = try Background(
            ProcessRunner.product("paddockd"), ["--data", data, "--log-level", "debug"] + options, errors: data + "/paddockd.err")
        for _ in 0..<400 {
            if access(data + "/paddockd.sock", F_OK) == 0,
                try ProcessRunner.run(ProcessRunner.product("paddock"), ["list", "--data", data]).status == 0
            {
                break
            }
            usleep(25_000)
        }
        return process
    }

    /// What paddockd has logged so far.
    var daemonLog: String { (try? String(contentsOfFile: data + "/paddockd.err", encoding: .utf8)) ?? "" }

    /// What the gateway has logged so far.
    var gatewayLog: String { (try? String(contentsOfFile: data + "/gateway.err", encoding: .utf8)) ?? "" }

    /// Kills the daemon (SIGKILL), as a crash would.
    func killDaemon() {
        daemon.stop()
    }

    func restartDaemon() throws {
        daemon = try Self.startDaemon(data, daemonOptions)
    }

    /// Runs `paddock ARGUMENTS --data DATA`.
    @discardableResult
    func paddock(_ arguments: String...) throws -> ProcessRunner.Result {
        try paddock(arguments)
    }

    /// A new key: `--admin` or `--tenant T`.
    func key(_ arguments: String...) throws -> String {
        let created = try paddock(["keys", "create"] + arguments)
        return created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Installs and activates an example.
    func activate(_ example: String, settings: [String] = []) throws {
        try paddock("install", Self.example(example))
        let id = example
        if !settings.isEmpty { try paddock(["settings", id] + settings.flatMap { ["--set", $0] }) }
        let result = try paddock("activate", id)
        guard result.status == 0 else { throw PaddockError(.pluginUnavailable, "activate \(example): \(result.stderr)") }
    }

    func paddock(_ arguments: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(ProcessRunner.product("paddock"), arguments + ["--data", data])
    }

    /// A request on a fresh connection; `key` as a bearer token; `timeout`: seconds to wait for the answer.
    func request(
        _ method: String, _ path: String, key: String? = nil, headers: [String: String] = [:], body: String = "", timeout: Double = 10
    ) throws -> HTTPConnection.Response {
        var all = headers
        if let key { all["Authorization"] = "Bearer \(key)" }
        return try HTTPConnection.request(port: port, method, path, headers: all, body: body, timeout: timeout)
    }

    deinit {
        gateway.stop()
        daemon.stop()
    }
}

/// The fake weather service of examples/weather-forecast/dev, on a free port.
final class FakeWeather {
    let process: Background
    let port: Int

    init() throws {
        process = try Background(
            URL(fileURLWithPath: "/usr/bin/python3"), [RunningGateway.example("weather-forecast") + "/dev/fake_upstream.py"])
        port = Int(process.nextLine().trimmingCharacters(in: .whitespaces)) ?? 0
    }

    var base: String { "http://127.0.0.1:\(port)" }

    deinit {
        process.stop()
    }
}
