import ArgumentParser
import Foundation
import PaddockControl
import PaddockCore

/// `paddock flow put|run|runs|show|get|list|delete`: a tenant's flows (docs/flows.md).
struct FlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow", abstract: "Store, run and inspect a tenant's flows.",
        subcommands: [
            FlowPutCommand.self, FlowRunCommand.self, FlowRunsCommand.self, FlowShowCommand.self, FlowGetCommand.self, FlowListCommand.self,
            FlowDeleteCommand.self,
        ])
}

/// `--tenant T` (default `default`) and `--data DIR`.
struct FlowOptions: ParsableArguments {
    @OptionGroup var daemon: DaemonOptions
    @Option(help: "The tenant the flow belongs to.") var tenant: String = "default"
}

struct FlowPutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Check a flow (YAML or JSON) against the installed plugins and store it.")
    @OptionGroup var options: FlowOptions
    @Argument(help: "The flow's file, YAML or JSON.") var file: String
    @Option(help: "The flow's id (default: the file's `id`).") var id: String?

    func run() async throws {
        let definition: JSONValue
        do {
            definition = try FlowDefinition.document(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        } catch let error as PaddockError {
            throw DaemonOptions.failure(error)
        } catch {
            throw DaemonOptions.failure(PaddockError(.configurationMissing, "cannot read \(file): \(error.localizedDescription)"))
        }
        guard let id = id ?? definition["id"]?.stringValue else {
            throw DaemonOptions.failure(PaddockError(.configurationMissing, "the flow has no id: give one with --id", field: "id"))
        }
        let answer = try await options.daemon.call(.flowPut, FlowPutRequest(tenant: options.tenant, id: id, definition: definition).params)
        print("flow \(id) stored for tenant \(options.tenant) (\(answer["nodes"]?.jsonText ?? "?") nodes)")
    }
}

struct FlowRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a stored flow and print its output (with --events, each node's events first).")
    @OptionGroup var options: FlowOptions
    @Argument(help: "The flow's id.") var id: String
    @Option(help: "The run's input as a JSON object.") var input: String = "{}"
    @Flag(help: "Print each node's events as they come, one JSON line each.") var events = false

    func run() async throws {
        guard let value = try? JSONValue(parsing: Array(input.utf8)), case .object = value else {
            throw DaemonOptions.failure(PaddockError(.wrongFormat, "--input is not a JSON object", field: "input"))
        }
        let printEvent: @Sendable ([UInt8]) -> Void = { FileHandle.standardOutput.write(Data($0 + [0x0A])) }
        let result = try await options.daemon.call(
            .flowRun, FlowRunRequest(tenant: options.tenant, id: id, input: value, stream: events).params, onChunk: events ? printEvent : nil)
        print(result.jsonText)
    }
}

struct FlowRunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List a flow's recent runs, newest first.")
    @OptionGroup var options: FlowOptions
    @Argument(help: "The flow's id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let answer = try await options.daemon.call(.flowRuns, TenantRequest(tenant: options.tenant, id: id).params)
        guard !json else { return print(answer.jsonText) }
        let rows = (answer["runs"]?.arrayValue ?? []).map { run in [Table.cell(run["run"]), Table.cell(run["status"]), Table.cell(run["started_ms"])] }
        print(Table.render(["RUN", "STATUS", "STARTED (ms)"], rows))
    }
}

struct FlowShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a run's record: input, variables, each node's input, output, timing and error.")
    @OptionGroup var options: FlowOptions
    @Argument(help: "The run's id.") var run: String

    func run() async throws {
        print(try await options.daemon.call(.flowShow, FlowShowRequest(tenant: options.tenant, run: run).params).jsonText)
    }
}

struct FlowGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a stored flow's definition as JSON.")
    @OptionGroup var options: FlowOptions
    @Argument(help: "The flow's id.") var id: String

    func run() async throws {
        print(try await options.daemon.call(.flowGet, TenantRequest(tenant: options.tenant, id: id).params)["definition"]?.jsonText ?? "null")
    }
}

struct FlowListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tenant's flows.")
    @OptionGroup var options: FlowOptions

    func run() async throws {
        let answer = try await options.daemon.call(.flowList, TenantRequest(tenant: options.tenant).params)
        print(Table.render(["FLOW", "UPDATED"], (answer["flows"]?.arrayValue ?? []).map { [Table.cell($0["id"]), Table.cell($0["updated_at"])] }))
    }
}

struct FlowDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a flow and its runs' records.")
    @OptionGroup var options: FlowOptions
    @Argument(help: "The flow's id.") var id: String

    func run() async throws {
        _ = try await options.daemon.call(.flowDelete, TenantRequest(tenant: options.tenant, id: id).params)
        print("flow \(id) deleted")
    }
}
