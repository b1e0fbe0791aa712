import ArgumentParser
import Foundation
import PaddockControl
import PaddockCore
import PaddockPackage

/// `--data DIR` (or `PADDOCK_DATA`, default `./.paddock`): which daemon the verb talks to.
struct DaemonOptions: ParsableArguments {
    @Option(help: "The daemon's data directory (default: $PADDOCK_DATA or ./.paddock).")
    var data: String?

    var directory: String {
        let chosen = data ?? ProcessInfo.processInfo.environment["PADDOCK_DATA"] ?? "./.paddock"
        return URL(fileURLWithPath: chosen).standardizedFileURL.path
    }

    /// Calls the daemon; a coded error is printed as `error NNN: message` and exits 1.
    func call(_ method: ControlMethod, _ params: JSONValue = [:], onChunk: (@Sendable ([UInt8]) -> Void)? = nil) async throws -> JSONValue {
        do {
            return try await request(method, params, onChunk: onChunk)
        } catch let error as PaddockError {
            throw Self.failure(error)
        }
    }

    /// Prints `error NNN: message` on standard error; the exit status that follows it.
    static func failure(_ error: PaddockError) -> ExitCode {
        FileHandle.standardError.write(Data("error \(error.code.rawValue): \(error.message)\n".utf8))
        return ExitCode.failure
    }

    /// Calls the daemon.
    /// - Throws: the daemon's ``PaddockError``, or 306 when there is no daemon.
    func request(
        _ method: ControlMethod, _ params: JSONValue = [:], onChunk: (@Sendable ([UInt8]) -> Void)? = nil
    ) async throws -> JSONValue {
        let client = try await ControlClient.connect(dataDirectory: directory)
        defer { client.close() }
        return try JSONValue(parsing: try await client.call(method, params, onChunk: onChunk))
    }
}

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a plugin's package (or its folder, packed now) into the daemon, or upgrade the installed one to it.",
        discussion: """
            The daemon keeps its own copy: later edits of the folder change nothing. A plugin already installed is \
            upgraded to a higher version with no failed call; what the new version may do that the old could not is \
            printed, and needs --yes.
            """)
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "A package file (from `paddock pack`, or a Dify `.difypkg`) or a plugin directory (Paddock's or Dify's).") var path: String
    @Flag(help: "Accept permissions the new version has and the installed one had not.") var yes = false
    @Flag(help: "Install a lower version over a higher one.") var force = false
    @Option(help: "Sign a packed directory with this key.") var sign: String?
    @Flag(help: "Grant the plugin outbound network, whatever its manifest says (a Dify manifest cannot ask for it).")
    var allowNetwork = false

    func run() async throws {
        let bytes: [UInt8]
        do {
            if FileSystem.kind(of: path) == .directory {
                bytes = try PluginPacker(signingKey: sign).pack(path).package.bytes
            } else {
                bytes = try FileSystem.read(path, limit: ControlServerLimits.packageBytes + 1)
                guard bytes.count <= ControlServerLimits.packageBytes else {
                    throw PaddockError(.wrongFormat, "\(path) is larger than \(ByteSize(bytes: ControlServerLimits.packageBytes))")
                }
            }
        } catch let error as PaddockError {
            throw DaemonOptions.failure(error)
        }
        let request = InstallRequest(.package(bytes), yes: yes, force: force, stream: true, allowNetwork: allowNetwork)
        do {
            let result = try await daemon.request(.install, request.params) { chunk in
                guard let message = (try? JSONValue(parsing: chunk))?["progress"]?["message"]?.stringValue else { return }
                FileHandle.standardError.write(Data("\(message.escapingControlCharacters())\n".utf8))
            }
            print(result.jsonText)
        } catch let error as PaddockError where error.reason == .permissionsWidened {
            let lines = error.details.filter { $0.key.hasPrefix("widened.") }.sorted { $0.key < $1.key }.map(\.value)
            var text = "error 104: \(error.details["to"] ?? "the new version") may do what \(error.details["from"] ?? "the installed one") may not:\n"
            for line in lines { text += "  + \(line)\n" }
            text += "install again with --yes to accept\n"
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitCode.failure
        } catch let error as PaddockError {
            throw DaemonOptions.failure(error)
        }
    }
}

/// How large a package the CLI sends to the daemon.
enum ControlServerLimits {
    static let packageBytes = 96 << 20
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Switch a plugin back to the version installed before the current one, with no failed call.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String

    func run() async throws {
        print(try await daemon.call(.rollback, PluginRequest(id).params).jsonText)
    }
}

struct VersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "versions", abstract: "The installed versions of a plugin (current and previous).")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String

    func run() async throws {
        print(try await daemon.call(.versions, PluginRequest(id).params).jsonText)
    }
}

struct ActivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate", abstract: "Check and start an installed plugin (settings 101, dependencies 105, permissions 104).")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String

    func run() async throws {
        print(try await daemon.call(.activate, PluginRequest(id).params).jsonText)
    }
}

struct DeactivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deactivate", abstract: "Stop a plugin; it stays installed.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String

    func run() async throws {
        print(try await daemon.call(.deactivate, PluginRequest(id).params).jsonText)
    }
}

struct UninstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "uninstall", abstract: "Remove a plugin, its settings and its data.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String
    @Flag(help: "Uninstall even while calls are in flight.") var force = false

    func run() async throws {
        print(try await daemon.call(.uninstall, UninstallRequest(id: id, force: force).params).jsonText)
    }
}

struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Show a plugin's settings (secrets masked), or set some with --set k=v (k=@FILE, k=-, k=? for secrets).")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("A setting k=v (repeatable); values that parse as JSON are JSON.", discussion: SettingAssignment.help))
    var assignments: [String] = []
    @Option(help: "The settings of this tenant (over the plugin's own) instead of the plugin's.") var tenant: String?
    @Option(help: "Whether the gateway serves the plugin's endpoints without an API key (webhooks).") var publicEndpoints: Bool?
    @Option(help: "The tenants that may call the plugin, comma-separated, or '*' for every tenant (the default).") var tenants: String?

    func run() async throws {
        var request = SettingsRequest(id: id, tenant: tenant, publicEndpoints: publicEndpoints)
        if let tenants {
            do throws(PaddockError) {
                request.tenants = try SettingsRequest.tenants(.array(tenants.split(separator: ",").map { .string(String($0)) }))
            } catch {
                throw DaemonOptions.failure(error)
            }
        }
        if !assignments.isEmpty { request.set = try await values() }
        print(try await daemon.call(.settings, request.params).jsonText)
    }

    /// The `--set` values, read from their sources; a warning for each secret
    /// (as the plugin's manifest, from the daemon, declares) given inline.
    private func values() async throws -> [String: JSONValue] {
        do throws(PaddockError) {
            let parsed = try SettingAssignment.parse(assignments)
            if parsed.contains(where: \.isInlineValue), let plugin = try? await daemon.request(.plugin, PluginRequest(id).params) {
                SecretWarning.print(parsed, secrets: PluginDescription(result: plugin).secretSettings)
            }
            return try SettingAssignment.values(parsed)
        } catch {
            throw DaemonOptions.failure(error)
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List installed plugins.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let plugins = try await daemon.call(.list)
        guard !json else { return print(plugins.jsonText) }
        guard case .array(let items) = plugins else { return }
        print(Table.render(["ID", "VERSION", "LIFECYCLE", "STATE", "UID"], items.map { item in
            [item["id"], item["version"], item["lifecycle"], item["live"] ?? item["lifecycle"], item["uid"]].map(Table.cell)
        }))
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show how plugins are doing.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "A plugin's id (default: all).") var id: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let status = try await daemon.call(.status, StatusRequest(id: id).params)
        guard !json else { return print(status.jsonText) }
        let items: [JSONValue] = if case .array(let all) = status { all } else { [status] }
        print(Table.render(
            ["ID", "STATE", "PID", "RESTARTS", "CALLS", "MEMORY", "PEAK", "P50 MS", "P99 MS", "LAST DEATH"],
            items.map { item in
                [item["id"], item["state"], item["pid"], item["restarts"], item["calls_served"], item["memory_bytes"],
                 item["peak_memory_bytes"], item["latency_p50_ms"], item["latency_p99_ms"]].map(Table.cell)
                    + [item["last_death"].map { "\(Table.cell($0["code"])) \(Table.cell($0["message"]))" } ?? "-"]
            }))
    }
}

struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke", abstract: "Call a tool, a model (--model) or an endpoint (--endpoint) of an active plugin.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String
    @Argument(help: "The tool.") var tool: String?
    @Option(help: "The tool's arguments (or the model's parameters) as a JSON object.") var params: String = "{}"
    @Flag(help: "Print each streamed chunk as it arrives, then the result.") var stream = false
    @Option(help: "The model to call, instead of a tool.") var model: String?
    @Option(help: "A user message for the model.") var message: String?
    @Option(help: "The endpoint path to call, instead of a tool.") var endpoint: String?
    @Option(help: "The endpoint's HTTP method.") var method: String = "GET"
    @Option(name: .customLong("query"), help: "A query parameter k=v for the endpoint (repeatable).") var queries: [String] = []
    @Option(name: .customLong("header"), help: "A request header 'Name: value' for the endpoint (repeatable).") var headers: [String] = []
    @Option(help: "The endpoint's request body: text, or @FILE.") var body: String?

    func validate() throws {
        guard [tool != nil, model != nil, endpoint != nil].count(where: { $0 }) == 1 else {
            throw ValidationError("name a tool, or give --model NAME or --endpoint PATH")
        }
    }

    func run() async throws {
        guard let arguments = try? JSONValue(parsing: Array(params.utf8)) else {
            FileHandle.standardError.write(Data("error 102: --params is not JSON\n".utf8))
            throw ExitCode.failure
        }
        let printChunk: @Sendable ([UInt8]) -> Void = { FileHandle.standardOutput.write(Data($0 + [0x0A])) }
        let result: JSONValue
        if let model {
            let messages: JSONValue = [["role": "user", "content": .string(message ?? "")]]
            result = try await daemon.call(
                .model, ModelRequest(id: id, model: model, messages: messages, parameters: arguments, stream: stream).params,
                onChunk: stream ? printChunk : nil)
        } else if let endpoint {
            guard let verb = HTTPMethod(rawValue: method.uppercased()) else { throw ValidationError("'\(method)' is not an HTTP method") }
            var query: [String: String] = [:]
            for pair in queries {
                let parts = pair.split(separator: "=", maxSplits: 1)
                query[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            var fields: [String: String] = [:]
            for header in headers {
                guard let colon = header.firstIndex(of: ":") else { throw ValidationError("--header takes 'Name: value', not '\(header)'") }
                fields[String(header[..<colon]).trimmingCharacters(in: .whitespaces)] =
                    String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
            let bytes: [UInt8]
            if let body, body.hasPrefix("@") {
                guard let data = FileManager.default.contents(atPath: String(body.dropFirst())) else {
                    throw ValidationError("cannot read the body file \(body.dropFirst())")
                }
                bytes = [UInt8](data)
            } else {
                bytes = Array((body ?? "").utf8)
            }
            result = try await callEndpoint(id, verb, endpoint, query, fields, bytes)
        } else {
            result = try await daemon.call(
                .invoke, InvokeRequest(id: id, tool: tool ?? "", arguments: arguments, stream: stream).params,
                onChunk: stream ? printChunk : nil)
        }
        print(result.jsonText)
    }

    /// Calls an endpoint; the body of the answer as text when it is text.
    private func callEndpoint(
        _ id: String, _ verb: HTTPMethod, _ endpoint: String, _ query: [String: String], _ headers: [String: String], _ body: [UInt8]
    ) async throws -> JSONValue {
        var answer = try await daemon.call(
            .endpoint, EndpointRequest(id: id, method: verb, path: endpoint, query: query, headers: headers, body: body).params)
        // The body as text when it is: that is what a person reading it wants.
        if let body = answer["body"]?.stringValue.flatMap(Base64.decode), let text = String(validating: body, as: UTF8.self) {
            answer = answer.merging(["body": .string(text)])
        }
        return answer
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show a plugin's log.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String
    @Option(help: "How many of the last lines.") var tail: Int = 50
    @Flag(help: "Keep printing new lines as they come.") var follow = false

    func run() async throws {
        // Lines are escaped when written; escaping again on the way out keeps
        // a log written before that (or tampered with) from reaching the terminal raw.
        let logs = try await daemon.call(.logs, LogsRequest(id: id, tail: tail).params)
        if case .array(let lines)? = logs["lines"] { for line in lines { print((line.stringValue ?? "").escapingControlCharacters()) } }
        guard follow, let path = logs["path"]?.stringValue, let handle = FileHandle(forReadingAtPath: path) else { return }
        handle.seekToEndOfFile()
        var partial: [UInt8] = []
        while true {
            let data = handle.availableData
            if data.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
            partial += data
            while let end = partial.firstIndex(of: 0x0A) {
                print(String(decoding: partial[..<end], as: UTF8.self).escapingControlCharacters())
                partial.removeSubrange(...end)
            }
            fflush(nil)
        }
    }
}

/// A plain text table for people.
enum Table {
    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: "-"
        case .string(let text)?: text
        case .double(let number)?: String(Double(Int(number * 100)) / 100)
        case let other?: other.jsonText
        }
    }

    /// A time since 1970, counted `perSecond` to the second, as ISO 8601; `-` when there is none.
    static func time(_ value: JSONValue?, perSecond: Double = 1) -> String {
        guard case .int(let count)? = value else { return "-" }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(count) / perSecond))
    }

    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
