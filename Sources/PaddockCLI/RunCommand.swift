import ArgumentParser
import Foundation
import PaddockCore
import PaddockSandbox
import PaddockSupervisor

/// `paddock run DIR --tool NAME --params JSON [--stream]`: the embedded
/// default. Starts the plugin (and the plugins it calls, `--with`) under the
/// sandbox with a temporary data dir (or `--data`, kept), makes one call,
/// prints the result, shuts down. No daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a plugin once under the sandbox and call a tool, a model or an endpoint.",
        discussion: "Prints the result as JSON and exits 0, or prints 'error NNN: message' on stderr and exits 1."
    )

    @Argument(help: "The plugin directory.")
    var directory: String

    @Option(help: "The tool to call.")
    var tool: String?

    @Option(help: "The tool's arguments as a JSON object.")
    var params: String = "{}"

    @Flag(help: "Print each streamed chunk as a JSON line as it arrives, then the result.")
    var stream = false

    @Option(help: "The model to call (instead of --tool); --params are its parameters.")
    var model: String?

    @Option(help: "The model's messages as a JSON array of {role, content}.")
    var messages: String?

    @Option(help: "A user message for the model (shorthand for --messages).")
    var prompt: String?

    @Option(help: "The endpoint path to call (instead of --tool).")
    var endpoint: String?

    @Option(help: "The endpoint's HTTP method.")
    var method: String = "GET"

    @Option(name: .customLong("query"), help: "A query parameter k=v for the endpoint (repeatable).")
    var queries: [String] = []

    @Option(help: "The endpoint's request body: text, or @FILE.")
    var body: String?

    @Option(
        name: .customLong("setting"),
        help: ArgumentHelp(
            "A plugin setting k=v (repeatable); values that parse as JSON are JSON.",
            discussion: SettingAssignment.help))
    var settings: [String] = []

    @Option(name: .customLong("with"), help: "Another plugin directory to run alongside, for the plugin to call (repeatable).")
    var companions: [String] = []

    @Option(name: .customLong("allow-range"), help: "A private IPv4 range (CIDR) the plugin may reach, with network permission (repeatable).")
    var allowedRanges: [String] = []

    @Option(name: .customLong("allow-host-port"), help: "A port of the host's loopback the plugin may reach at 127.0.0.1, with network permission (repeatable).")
    var allowedHostPorts: [Int] = []

    @Option(help: "A data directory to use and keep (storage, logs) instead of a temporary one.")
    var data: String?

    @Option(help: "The call's deadline in seconds.")
    var timeout: Double = 30

    @Flag(help: "On failure, also print the end of the plugin's log (its stderr included).")
    var verbose = false

    @Option(help: "Seconds the plugin has to start and answer initialize.")
    var startTimeout: Double = 10

    func run() async throws {
        let scratch = try data.map(Self.dataDirectory) ?? Self.scratchDirectory()
        defer { if data == nil { try? FileManager.default.removeItem(atPath: scratch) } }
        var engine: Engine?
        var pluginID: String?
        var watcher: Task<Void, Never>?
        do {
            // Before anything starts: `k=?` may ask on the terminal.
            let settingValues = try settingValues()
            var configuration = try EngineConfiguration.locate(dataDirectory: scratch)
            configuration.callTimeout = .milliseconds(Int64(timeout * 1000))
            configuration.startTimeout = .milliseconds(Int64(startTimeout * 1000))
            configuration.restart.policy = .never
            if data == nil { configuration.environmentsDirectory = try Self.environmentCache() }
            if !allowedRanges.isEmpty || !allowedHostPorts.isEmpty {
                for range in allowedRanges { _ = try IPv4Range(parsing: range) }
                let name = try ManifestLoader().manifest(in: directory).name
                configuration.allowedRanges[name] = allowedRanges
                configuration.allowedHostPorts[name] = allowedHostPorts
            }
            let running = Engine(configuration: configuration)
            engine = running
            // Stopped from outside: every plugin process and cgroup goes, then the scratch directory.
            let temporary = data == nil ? scratch : nil
            watcher = Task.detached {
                guard let number = await TerminationSignals.first() else { return }
                await running.terminate()
                if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
                Glibc.exit(128 + number)
            }
            let progress: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data("requirements: \(line)\n".utf8)) }
            for companion in companions {
                let other = try await running.load(directory: companion)
                pluginID = other
                try await running.installRequirements(other, progress: progress)
                try await running.start(other)
            }
            let id = try await running.load(directory: directory, settings: .object(settingValues))
            pluginID = id
            try await running.installRequirements(id, progress: progress)
            try await running.start(id)
            let result = try await call(running, id)
            print(String(decoding: result, as: UTF8.self))
            await running.shutdown()
            watcher?.cancel()
        } catch let error as PaddockError {
            // Stopped by a signal, the call failed because its plugin was killed: the watcher ends the process.
            if TerminationSignals.received != nil { await watcher?.value }
            watcher?.cancel()
            FileHandle.standardError.write(Data("error \(error.code.rawValue): \(error.message)\n".utf8))
            await engine?.shutdown()
            if verbose, let engine, let pluginID, let path = try? await engine.logPath(pluginID),
                let log = try? String(contentsOfFile: path, encoding: .utf8)
            {
                let tail = log.split(separator: "\n").suffix(20).map { "  | \($0)" }.joined(separator: "\n")
                FileHandle.standardError.write(Data("the plugin's log (\(path)):\n\(tail)\n".utf8))
            }
            throw ExitCode.failure
        }
    }

    private func call(_ engine: Engine, _ id: String) async throws -> [UInt8] {
        if let endpoint {
            guard let verb = HTTPMethod(rawValue: method.uppercased()) else {
                throw PaddockError(.wrongFormat, "--method \(method) is not an HTTP method")
            }
            return try await engine.invokeEndpoint(
                id, method: verb, path: endpoint, query: Assignments.pairs(queries), body: try bodyBytes())
        }
        let arguments = try Self.json(params, "--params")
        if let model {
            let conversation: JSONValue =
                if let messages { try Self.json(messages, "--messages") } else { [["role": "user", "content": .string(prompt ?? "")]] }
            return try await engine.invokeModel(
                id, model: model, messages: conversation, params: arguments, onChunk: stream ? Self.printChunk : nil)
        }
        guard let tool else { throw PaddockError(.configurationMissing, "give --tool NAME, --model NAME or --endpoint PATH") }
        return try await engine.invokeTool(id, tool: tool, arguments: arguments, onChunk: stream ? Self.printChunk : nil)
    }

    /// The `--setting` values, read from their sources; a warning for each
    /// secret the manifest declares that was given inline.
    private func settingValues() throws(PaddockError) -> [String: JSONValue] {
        let assignments = try SettingAssignment.parse(settings)
        if assignments.contains(where: \.isInlineValue), let manifest = ManifestLoader().load(directory: directory).manifest {
            SecretWarning.print(assignments, secrets: SecretWarning.secrets(of: manifest))
        }
        return try SettingAssignment.values(assignments)
    }

    private static func json(_ text: String, _ option: String) throws(PaddockError) -> JSONValue {
        do {
            return try JSONValue(parsing: Array(text.utf8))
        } catch {
            throw PaddockError(.wrongFormat, "\(option) is not JSON: \(error.message)")
        }
    }

    /// Prints a streamed chunk as its own line, at once.
    @Sendable private static func printChunk(_ chunk: [UInt8]) {
        FileHandle.standardOutput.write(Data(chunk + [UInt8(ascii: "\n")]))
    }

    private func bodyBytes() throws -> [UInt8] {
        guard let body else { return [] }
        if body.hasPrefix("@") {
            guard let data = FileManager.default.contents(atPath: String(body.dropFirst())) else {
                throw PaddockError(.configurationMissing, "cannot read the body file \(body.dropFirst())")
            }
            return [UInt8](data)
        }
        return Array(body.utf8)
    }

    /// Where runs without `--data` keep Python environments between runs
    /// (`$XDG_CACHE_HOME/paddock/envs`, else `~/.cache/paddock/envs`): a
    /// plugin's requirements are installed on its first run only.
    private static func environmentCache() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        let path = cache + "/paddock/envs"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    /// `--data`: created when missing; absolute, so the plugin's paths are.
    private static func dataDirectory(_ path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        return absolute
    }

    /// A private data directory (mode 0700: plugins see none of it).
    private static func scratchDirectory() throws -> String {
        var template = Array("/tmp/paddock-run-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw PaddockError(.fileLimitExceeded, "cannot create a temporary data directory") }
        return String(cString: path)
    }
}
