import ArgumentParser
import Foundation
import PaddockControl
import PaddockCore
import PaddockPackage

/// `paddock keys create|list|revoke`: the gateway's API keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage the gateway's API keys, and make package signing keys.",
        subcommands: [CreateKeyCommand.self, ListKeysCommand.self, RevokeKeyCommand.self, GenerateSigningKeyCommand.self])
}

/// `paddock keys gen-signing --out DIR`: an Ed25519 key pair for `paddock pack --sign`.
struct GenerateSigningKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-signing",
        abstract: "Write an Ed25519 key pair for signing packages: DIR/signing.key (0600) and DIR/signing.pub.",
        discussion: "Give signing.key to `paddock pack --sign`; put signing.pub (the file or its line) in paddockd's packages.trusted_keys.")
    @Option(help: "The folder to write the keys to (created if missing).") var out: String

    func run() throws {
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let publicKey = try SigningKey.generate(in: out)
            print(publicKey)
            FileHandle.standardError.write(Data("wrote \(out)/signing.key (keep it secret) and \(out)/signing.pub\n".utf8))
        } catch let error as PaddockError {
            throw DaemonOptions.failure(error)
        }
    }
}

struct CreateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a key and print it alone on stdout: the only time it is ever shown.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "A key for the management routes (and every tenant).") var admin = false
    @Option(help: "A key for tool calls, endpoints and settings within this tenant.") var tenant: String?

    func validate() throws {
        guard admin != (tenant != nil) else { throw ValidationError("give --admin or --tenant TENANT") }
    }

    func run() async throws {
        let created = try await daemon.call(.keysCreate, KeysCreateRequest(kind: admin ? .admin : .tenant, tenant: tenant).params)
        print(created["key"]?.stringValue ?? "")
        FileHandle.standardError.write(Data("created key \(created["id"]?.stringValue ?? ""); store it now, it is not shown again\n".utf8))
    }
}

struct ListKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys: ids, kinds, tenants, when created and last used.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let keys = try await daemon.call(.keysList)
        guard !json else { return print(keys.jsonText) }
        print(Table.render(["ID", "KIND", "TENANT", "CREATED", "LAST USED", "REVOKED"], (keys.arrayValue ?? []).map { key in
            [Table.cell(key["id"]), Table.cell(key["kind"]), Table.cell(key["tenant"]), Table.time(key["created_at"]),
             Table.time(key["last_used_at"]), Table.cell(key["revoked"])]
        }))
    }
}

struct RevokeKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key: refused at once by paddockd, within 2 s by a running gateway (it remembers checks that long).")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The key's id (from keys list).") var id: String

    func run() async throws {
        print(try await daemon.call(.keysRevoke, KeysRevokeRequest(id).params).jsonText)
    }
}
