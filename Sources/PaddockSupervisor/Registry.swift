public import PaddockCore
import PaddockStorage

/// What the daemon remembers about installed plugins, in `paddock.db`:
/// where each one is, its lifecycle state, its uid, and its settings (those
/// of type `secret` sealed with a ``SecretBox``). Every query runs on the
/// database's ``DatabaseOwner``.
public final class Registry: Sendable {
    /// The lifecycle state an operator sets; running and restarting are the
    /// engine's live states on top of `active`.
    public enum LifecycleState: String, Sendable, CaseIterable {
        case installed, active, inactive, failed
    }

    public struct Record: Sendable, Equatable {
        public var id: String
        public var version: String
        public var directory: String
        public var state: LifecycleState
        public var uid: UInt32
    }

    /// Shown instead of a secret's value: secrets are never printed back.
    public static let mask = "********"

    /// The owner of `paddock.db`, shared with the daemon's other tables (API keys, storage).
    let owner: DatabaseOwner
    private let secrets: SecretBox
    private let firstUID: UInt32

    /// The registry in the database of `owner` (opened and migrated now),
    /// with the secret key in `<data>/secret.key`.
    /// - Throws: ``PaddockError`` 307 for storage problems (SQLite, the secret key), 105 for a newer schema.
    init(owner: DatabaseOwner, dataDirectory: String, firstUID: UInt32) async throws {
        self.owner = owner
        // Reading (or creating and syncing) the key is disk work too: on the owner's thread.
        secrets = try await owner.run { _ in try SecretBox(keyPath: dataDirectory + "/secret.key") }
        self.firstUID = firstUID
    }

    /// Opens `<data>/paddock.db` (migrating it) with an owner of its own, and `<data>/secret.key`.
    /// - Throws: ``PaddockError`` 307 for storage problems (SQLite, the secret key), 105 for a newer schema.
    public convenience init(dataDirectory: String, firstUID: UInt32) async throws {
        try await self.init(owner: DatabaseOwner(path: dataDirectory + "/paddock.db"), dataDirectory: dataDirectory, firstUID: firstUID)
    }

    /// One installed copy of a plugin (``Daemon`` keeps the current one and the one before).
    public struct Version: Sendable, Equatable {
        public var version: String
        public var directory: String
        /// The package's content digest (``PaddockPackage/PackageListing/digest``).
        public var digest: String
        /// The signer's public key, base64, when the package was signed.
        public var signer: String?
        public var installedAt: Int
    }

    /// Records a plugin from its validated manifest, with the lowest free uid,
    /// and its installed copy.
    /// - Throws: ``PaddockError`` 102 when a plugin with that id is installed.
    @discardableResult
    public func install(_ manifest: Manifest, directory: String, digest: String = "", signer: String? = nil) async throws -> Record {
        let (id, version, firstUID) = (manifest.name, manifest.version.description, self.firstUID)
        return try await owner.run { database in
            try database.transaction { () throws(PaddockError) in
                guard try Self.record(id, in: database) == nil else {
                    throw PaddockError(.wrongFormat, "\(id) is already installed; uninstall it first", field: "name")
                }
                let used = Set(try database.query("SELECT uid FROM plugins").compactMap { $0.first?.integer })
                var uid = Int64(firstUID)
                while used.contains(uid) { uid += 1 }
                try database.query(
                    "INSERT INTO plugins (id, version, directory, state, uid) VALUES (?, ?, ?, 'installed', ?)",
                    [.text(id), .text(version), .text(directory), .integer(uid)])
                try Self.addVersion(id, version, directory: directory, digest: digest, signer: signer, in: database)
                return Record(id: id, version: version, directory: directory, state: .installed, uid: UInt32(uid))
            }
        }
    }

    /// Makes `version` (installed at `directory`) the plugin's current copy,
    /// recording it when it is new; the copy that was current is kept as
    /// the one before, and any older one is forgotten.
    /// - Returns: the folders of the copies forgotten (for the caller to remove).
    public func switchVersion(
        _ id: String, to version: String, directory: String, digest: String, signer: String?
    ) async throws -> [String] {
        try await owner.run { database in
            try database.transaction { () throws(PaddockError) -> [String] in
                guard let current = try Self.record(id, in: database) else { throw Self.notInstalled(id) }
                try Self.addVersion(id, version, directory: directory, digest: digest, signer: signer, in: database)
                try database.query(
                    "UPDATE plugins SET version = ?, directory = ?, updated_at = unixepoch() WHERE id = ?",
                    [.text(version), .text(directory), .text(id)])
                let kept = [version, current.version]
                let stale = try database.query(
                    "SELECT directory FROM plugin_versions WHERE plugin = ? AND version NOT IN (?, ?)",
                    [.text(id), .text(kept[0]), .text(kept[1])]).compactMap { $0.first?.text }
                try database.query(
                    "DELETE FROM plugin_versions WHERE plugin = ? AND version NOT IN (?, ?)", [.text(id), .text(kept[0]), .text(kept[1])])
                return stale
            }
        }
    }

    /// The installed copies of a plugin, newest install first.
    public func versions(_ id: String) async throws -> [Version] {
        try await owner.run { database in
            try database.query(
                "SELECT version, directory, digest, signer, installed_at FROM plugin_versions WHERE plugin = ? ORDER BY installed_at DESC, rowid DESC",
                [.text(id)]
            ).compactMap { row in
                guard let version = row[0].text, let directory = row[1].text, let digest = row[2].text else { return nil }
                return Version(version: version, directory: directory, digest: digest, signer: row[3].text, installedAt: Int(row[4].integer ?? 0))
            }
        }
    }

    /// Every folder an installed copy lives in: what a sweep of `plugins/` keeps.
    public func installedDirectories() async throws -> Set<String> {
        try await owner.run { database in
            Set(try database.query("SELECT directory FROM plugin_versions UNION SELECT directory FROM plugins").compactMap { $0.first?.text })
        }
    }

    private static func addVersion(
        _ id: String, _ version: String, directory: String, digest: String, signer: String?, in database: Database
    ) throws(PaddockError) {
        try database.query(
            """
            INSERT INTO plugin_versions (plugin, version, directory, digest, signer) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (plugin, version) DO UPDATE SET directory = excluded.directory, digest = excluded.digest, signer = excluded.signer
            """,
            [.text(id), .text(version), .text(directory), .text(digest), signer.map(Database.Value.text) ?? .null])
    }

    public func record(_ id: String) async throws -> Record? {
        try await owner.run { database in try Self.record(id, in: database) }
    }

    /// Every installed plugin, by id.
    public func all() async throws -> [Record] {
        try await owner.run { database in
            try database.query("SELECT id, version, directory, state, uid FROM plugins ORDER BY id").compactMap(Self.record)
        }
    }

    public func setState(_ id: String, _ state: LifecycleState) async throws {
        try await owner.run { database in
            try database.query("UPDATE plugins SET state = ?, updated_at = unixepoch() WHERE id = ?", [.text(state.rawValue), .text(id)])
            guard database.changes == 1 else { throw Self.notInstalled(id) }
        }
    }

    /// Whether the gateway serves the plugin's endpoints without an API key
    /// (webhooks that verify their own signatures).
    public func publicEndpoints(_ id: String) async throws -> Bool {
        try await owner.run { database in
            try database.query("SELECT public_endpoints FROM plugins WHERE id = ?", [.text(id)]).first?.first?.integer == 1
        }
    }

    public func setPublicEndpoints(_ id: String, _ open: Bool) async throws {
        try await owner.run { database in
            try database.query("UPDATE plugins SET public_endpoints = ? WHERE id = ?", [.integer(open ? 1 : 0), .text(id)])
            guard database.changes == 1 else { throw Self.notInstalled(id) }
        }
    }

    /// Whether the operator granted the plugin outbound network at install,
    /// over what its manifest declares.
    public func networkGranted(_ id: String) async throws -> Bool {
        try await owner.run { database in
            try database.query("SELECT network_granted FROM plugins WHERE id = ?", [.text(id)]).first?.first?.integer == 1
        }
    }

    public func setNetworkGranted(_ id: String, _ granted: Bool) async throws {
        try await owner.run { database in
            try database.query("UPDATE plugins SET network_granted = ? WHERE id = ?", [.integer(granted ? 1 : 0), .text(id)])
            guard database.changes == 1 else { throw Self.notInstalled(id) }
        }
    }

    /// The tenants the operator lets call the plugin; nil: every tenant.
    public func allowedTenants(_ id: String) async throws -> Set<String>? {
        let text = try await owner.run { database in
            try database.query("SELECT tenants FROM plugins WHERE id = ?", [.text(id)]).first?.first?.text
        }
        return text.flatMap { try? JSONValue(parsing: Array($0.utf8)) }?.arrayValue.map { Set($0.compactMap(\.stringValue)) }
    }

    public func setAllowedTenants(_ id: String, _ tenants: Set<String>?) async throws {
        let value: Database.Value = tenants.map { .text(JSONValue.array($0.sorted().map(JSONValue.string)).jsonText) } ?? .null
        try await owner.run { database in
            try database.query("UPDATE plugins SET tenants = ? WHERE id = ?", [value, .text(id)])
            guard database.changes == 1 else { throw Self.notInstalled(id) }
        }
    }

    /// Forgets a plugin and its settings.
    public func uninstall(_ id: String) async throws {
        try await owner.run { database in
            try database.query("DELETE FROM plugins WHERE id = ?", [.text(id)])
            guard database.changes == 1 else { throw Self.notInstalled(id) }
        }
    }

    /// Stores settings, the plugin's own or one tenant's (which override the
    /// plugin's for that tenant); values of settings the manifest types
    /// `secret` are sealed.
    /// - Throws: ``PaddockError`` 102 for a setting the manifest does not declare.
    public func setSettings(
        _ id: String, _ values: [String: JSONValue], manifest: Manifest, tenant: String? = nil
    ) async throws {
        let declared = Dictionary(uniqueKeysWithValues: manifest.settings.map { ($0.name, $0.type == .secret) })
        let secrets = self.secrets
        try await owner.run { database in
            try database.transaction { () throws(PaddockError) in
                guard try Self.record(id, in: database) != nil else { throw Self.notInstalled(id) }
                for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                    guard let secret = declared[name] else {
                        throw PaddockError(.wrongFormat, "\(id) declares no setting '\(name)'", field: "settings.\(name)")
                    }
                    let stored: Database.Value = .text(secret ? try secrets.seal(value.jsonText) : value.jsonText)
                    if let tenant {
                        try database.query(
                            """
                            INSERT INTO tenant_settings (plugin, tenant, name, value, secret) VALUES (?, ?, ?, ?, ?)
                            ON CONFLICT (plugin, tenant, name) DO UPDATE SET value = excluded.value, secret = excluded.secret
                            """,
                            [.text(id), .text(tenant), .text(name), stored, .integer(secret ? 1 : 0)])
                    } else {
                        try database.query(
                            "INSERT INTO settings (plugin, name, value, secret) VALUES (?, ?, ?, ?) ON CONFLICT (plugin, name) DO UPDATE SET value = excluded.value, secret = excluded.secret",
                            [.text(id), .text(name), stored, .integer(secret ? 1 : 0)])
                    }
                }
            }
        }
    }

    /// The plugin's own settings (the operator's), secrets decrypted.
    public func settings(_ id: String) async throws -> JSONValue {
        .object(try await values(id, tenant: nil, reveal: true))
    }

    /// The plugin's own settings as an operator may see them: secrets masked.
    public func publicSettings(_ id: String) async throws -> JSONValue {
        .object(try await values(id, tenant: nil, reveal: false))
    }

    /// The operator's values and one tenant's, apart, secrets decrypted:
    /// ``SettingOwnership`` decides what a call made for the tenant gets.
    func settingLayers(_ id: String, tenant: String) async throws -> (operator: [String: JSONValue], tenant: [String: JSONValue]) {
        (try await values(id, tenant: nil, reveal: true), try await values(id, tenant: tenant, reveal: true))
    }

    /// The operator's values (`tenant` nil) or one tenant's.
    private func values(_ id: String, tenant: String?, reveal: Bool) async throws -> [String: JSONValue] {
        let rows = try await owner.run { database in
            if let tenant {
                return try database.query(
                    "SELECT name, value, secret FROM tenant_settings WHERE plugin = ? AND tenant = ?", [.text(id), .text(tenant)])
            }
            return try database.query("SELECT name, value, secret FROM settings WHERE plugin = ?", [.text(id)])
        }
        // Decrypting and parsing are the caller's work: the owner's thread only queries.
        var values: [String: JSONValue] = [:]
        for row in rows {
            guard let name = row[0].text, let stored = row[1].text else { continue }
            if row[2].integer == 1 {
                values[name] = reveal ? try JSONValue(parsing: Array(try secrets.open(stored).utf8)) : .string(Self.mask)
            } else {
                values[name] = try JSONValue(parsing: Array(stored.utf8))
            }
        }
        return values
    }

    /// The raw stored value, for tests that check secrets are not stored in clear.
    func storedValue(_ id: String, _ name: String) async throws -> String? {
        try await owner.run { database in
            try database.query("SELECT value FROM settings WHERE plugin = ? AND name = ?", [.text(id), .text(name)]).first?.first?.text
        }
    }

    private static func record(_ id: String, in database: Database) throws(PaddockError) -> Record? {
        try database.query("SELECT id, version, directory, state, uid FROM plugins WHERE id = ?", [.text(id)]).first.flatMap(Self.record)
    }

    private static func record(_ row: [Database.Value]) -> Record? {
        guard row.count == 5, let id = row[0].text, let version = row[1].text, let directory = row[2].text,
            let state = row[3].text.flatMap(LifecycleState.init(rawValue:)), let uid = row[4].integer
        else { return nil }
        return Record(id: id, version: version, directory: directory, state: state, uid: UInt32(uid))
    }

    private static func notInstalled(_ id: String) -> PaddockError {
        PaddockError(.pluginUnavailable, "no plugin named \(id) is installed", reason: .notInstalled)
    }
}
