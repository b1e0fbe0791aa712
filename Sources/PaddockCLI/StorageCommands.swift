import ArgumentParser
import Foundation
import PaddockControl
import PaddockCore

/// `paddock storage usage|check|quota ID`.
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Inspect a plugin's storage.",
        subcommands: [StorageUsageCommand.self, StorageCheckCommand.self, StorageQuotaCommand.self])
}

/// `paddock storage quota ID --tenant T --bytes SIZE | --unset`.
struct StorageQuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota", abstract: "Set (or unset) an operator's quota for one tenant of a plugin, within the plugin's own.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "The tenant's quota: bytes or a size such as 512KiB.") var bytes: String?
    @Flag(help: "Remove the tenant's quota (the plugin's own still applies).") var unset = false

    func validate() throws {
        guard (bytes == nil) != !unset else { throw ValidationError("give --bytes SIZE or --unset") }
    }

    func run() async throws {
        let size = try bytes.map { text throws(PaddockError) in try ByteSize(parsing: text).bytes }
        let usage = try await daemon.call(.storageQuota, StorageQuotaRequest(id: id, tenant: tenant, bytes: size).params)
        print(usage.jsonText)
    }
}

struct StorageUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Show the bytes a plugin stores (keys, values, blobs, 32 bytes per entry) against its quota.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let usage = try await daemon.call(.storageUsage, PluginRequest(id).params)
        guard !json else { return print(usage.jsonText) }
        print("\(id): \(Table.cell(usage["bytes"])) of \(Table.cell(usage["quota"])) bytes")
        guard case .array(let tenants)? = usage["tenants"], tenants.count > 1 || tenants.contains(where: { $0["quota"] != nil }) else { return }
        print(Table.render(["TENANT", "BYTES", "TENANT QUOTA"], tenants.map { [Table.cell($0["tenant"]), Table.cell($0["bytes"]), Table.cell($0["quota"])] }))
    }
}

struct StorageCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Recompute a plugin's storage usage from its data and compare; exits 1 on a mismatch.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The plugin's id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let check = try await daemon.call(.storageCheck, PluginRequest(id).params)
        if json {
            print(check.jsonText)
        } else if case .array(let tenants)? = check["tenants"] {
            print(Table.render(["TENANT", "RECORDED", "COMPUTED", "OK"], tenants.map { tenant in
                [tenant["tenant"], tenant["recorded"], tenant["computed"], tenant["consistent"]].map(Table.cell)
            }))
        }
        guard check["consistent"] == .bool(true) else {
            FileHandle.standardError.write(Data("error \(PaddockError.Code.internalError.rawValue): the recorded storage usage of \(id) does not match its data\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// `paddock audit [ID]`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show the host calls plugins were refused (the permission each lacked, or the storage quota it would pass).")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "A plugin's id (default: all).") var id: String?
    @Option(help: "How many of the newest events (denials of one permission by one plugin within a minute).") var limit: Int = 100
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let entries = try await daemon.call(.audit, AuditRequest(id: id, limit: limit).params)
        guard !json else { return print(entries.jsonText) }
        guard case .array(let items) = entries else { return }
        print(Table.render(["TIME", "PLUGIN", "METHOD", "MISSING PERMISSION", "COUNT"], items.map { item in
            [Table.time(item["at_ms"], perSecond: 1000)] + [item["plugin"], item["method"], item["permission"], item["count"]].map(Table.cell)
        }))
    }
}
