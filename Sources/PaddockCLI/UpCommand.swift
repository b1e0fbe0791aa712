import ArgumentParser
import Dispatch
import Foundation
import Glibc
import PaddockControl
import PaddockCore
import PaddockSupervisor

/// `paddock up`: the supervisor and the gateway as two processes, the
/// examples installed and active, and a first admin key with a curl line to
/// try. Runs until SIGINT or SIGTERM, then stops both.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start paddockd and paddock-gateway with the examples installed, and print an admin key to try them with.")

    @Option(help: "The data directory (default: $PADDOCK_DATA or ./.paddock).") var data: String?
    @Option(help: "HOST:PORT for the gateway (port 0: any free port).") var listen: String = "127.0.0.1:8080"
    @Option(help: "A gateway.yaml: CORS, limits, rate limits, cache.") var config: String?

    func run() async throws {
        let options = try DaemonOptions.parse(data.map { ["--data", $0] } ?? [])
        let directory = options.directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o700)  // plugins never see it: their view holds none of it
        let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let examples = try EngineConfiguration.locate("PADDOCK_EXAMPLES", "examples", marker: "text-tools/manifest.yaml")

        let children = ChildProcesses()
        // From the first moment: a signal while starting stops what has started.
        let watcher = Task.detached {
            guard await TerminationSignals.first() != nil else { return }
            children.stopAll()
            Glibc.exit(0)
        }
        defer { watcher.cancel() }
        do {
            // The stand-in weather service listens on the host's loopback, which
            // plugins never reach unless the operator allows a port: paddockd
            // allows the weather plugin this one.
            let upstream = try ChildProcess(
                "/usr/bin/python3", [examples + "/weather-forecast/dev/fake_upstream.py"], capture: true)
            children.append(upstream)
            let upstreamPort = upstream.nextLine() ?? ""
            let daemon = try ChildProcess(
                binaries + "/paddockd", ["--data", directory, "--allow-host-port", "weather-forecast=\(upstreamPort)"],
                output: directory + "/paddockd.out")
            children.append(daemon)
            try await waitForDaemon(options, daemon)
            try await installExamples(options, examples, weather: "http://127.0.0.1:\(upstreamPort)")
            let running = try await runningExamples(options)
            guard !running.isEmpty else {
                throw PaddockError(
                    .pluginUnavailable,
                    "no example plugin started (see above; `paddock logs ID --data \(directory)` shows each one's log)")
            }
            let key = try await firstAdminKey(options)

            var arguments = ["--supervisor", directory + "/paddockd.sock", "--listen", listen]
            if let config { arguments += ["--config", config] }
            let gateway = try ChildProcess(binaries + "/paddock-gateway", arguments, capture: true)
            children.append(gateway)
            var url: String?
            while url == nil, let line = gateway.nextLine() {
                if let range = line.range(of: "listening on ") { url = String(line[range.upperBound...]) }
            }
            guard let url else { throw PaddockError(.pluginUnavailable, "paddock-gateway did not start; see its output above") }
            printBanner(url: url, key: key, directory: directory, running: running)
            if let ended = await children.firstToExit() {
                children.stopAll()
                throw PaddockError(.pluginCrashed, "\(ended) exited; stopped the others")
            }
            await watcher.value  // a signal: the watcher stops everything and exits
        } catch let error as PaddockError {
            if children.isStopping { await watcher.value }
            children.stopAll()
            FileHandle.standardError.write(Data("error \(error.code.rawValue): \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func waitForDaemon(_ options: DaemonOptions, _ daemon: ChildProcess) async throws {
        for _ in 0..<200 {
            if ControlClient.isServing(options.directory + "/paddockd.sock") { return }
            guard daemon.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PaddockError(.pluginUnavailable, "paddockd did not start; see \(options.directory)/paddockd.out")
    }

    /// Installs and activates each example not installed yet; the weather
    /// plugin talks to the stand-in weather service.
    private func installExamples(_ options: DaemonOptions, _ examples: String, weather: String) async throws {
        let client = try await ControlClient.connect(dataDirectory: options.directory)
        defer { client.close() }
        let installed = Set((try JSONValue(parsing: try await client.call(.list)).arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        for name in Self.examples where !installed.contains(name) {
            do {
                _ = try await client.call(.install, InstallRequest(examples + "/" + name).params)
                if name == "weather-forecast" {
                    let settings = SettingsRequest(id: name, set: ["api_base": .string(weather), "api_key": "test-key"])
                    _ = try await client.call(.settings, settings.params)
                }
                _ = try await client.call(.activate, PluginRequest(name).params)
            } catch let error as PaddockError {
                print("not started: \(name): error \(error.code.rawValue): \(error.message)")
            }
        }
    }

    /// The examples that run, once none is still starting (at most 30 s);
    /// each one that does not is named with its last death and where its log is.
    private func runningExamples(_ options: DaemonOptions) async throws -> [String] {
        let client = try await ControlClient.connect(dataDirectory: options.directory)
        defer { client.close() }
        var states: [String: JSONValue] = [:]
        for _ in 0..<300 {
            let list = try JSONValue(parsing: try await client.call(.status)).arrayValue ?? []
            states = Dictionary(list.compactMap { item in item["id"]?.stringValue.map { ($0, item) } }) { first, _ in first }
            let settling = states.values.contains { ["starting", "restarting"].contains($0["state"]?.stringValue ?? "") }
            if !settling { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        var running: [String] = []
        for name in Self.examples {
            let state = states[name]?["state"]?.stringValue ?? "not installed"
            if state == "running" {
                running.append(name)
                print("running: \(name)")
            } else {
                let death = states[name]?["last_death"].flatMap { $0 == .null ? nil : $0 }
                let why = death.map { " (last death: error \($0["code"]?.numberValue.map { Int($0) } ?? 0): \($0["message"]?.stringValue ?? ""))" } ?? ""
                print("not running: \(name): \(state)\(why); see paddock logs \(name) --data \(options.directory)")
            }
        }
        return running
    }

    static let examples = ["text-tools", "notes", "mini-llm", "echo-swift", "weather-forecast"]

    /// A new admin key when there is none yet; nil when one exists (keys are shown once).
    private func firstAdminKey(_ options: DaemonOptions) async throws -> String? {
        let client = try await ControlClient.connect(dataDirectory: options.directory)
        defer { client.close() }
        let keys = try JSONValue(parsing: try await client.call(.keysList)).arrayValue ?? []
        guard !keys.contains(where: { $0["kind"] == "admin" && $0["revoked"] == false }) else { return nil }
        return try JSONValue(parsing: try await client.call(.keysCreate, KeysCreateRequest(kind: .admin).params))["key"]?.stringValue
    }

    private func printBanner(url: String, key: String?, directory: String, running: [String]) {
        let shown = key ?? "<an admin key; this data directory has one already: paddock keys create --admin --data \(directory)>"
        let wordCount =
            running.contains("text-tools")
            ? "  curl -s -X POST \(url)/v1/plugins/text-tools/tools/word_count -H 'Authorization: Bearer \(shown)' -d '{\"text\": \"hello paddock\"}'\n"
            : ""
        print("""

            Paddock is up: paddockd on \(directory)/paddockd.sock, the gateway on \(url)
            Running \(running.count) of \(Self.examples.count) examples: \(running.joined(separator: ", "))
            Admin key (shown only now): \(shown)

            Try:
            \(wordCount)  curl -s \(url)/v1/plugins -H 'Authorization: Bearer \(shown)'

            Ctrl-C stops both.
            """)
        fflush(nil)
    }
}
