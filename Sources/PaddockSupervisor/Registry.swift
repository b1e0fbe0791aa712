public import PaddockCore
import PaddockStorage

/// What the daemon remembers about installed plugins, in `paddock.db`:
/// where each one is, its lifecycle state, its uid, and its settings (those
/// of type `secret` sealed with a ``SecretBox``). Owned by one actor.
public final class Registry {
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

    /// `paddock.db`, shared with the daemon's other tables (API keys).
    let database: Database
    private let secrets: SecretBox
    private let firstUID: UInt32

    /// Opens `<data>/paddock.db` (migrating it) and `<data>/secret.key`.
    /// - Throws: ``PaddockError`` 307 for storage problems (SQLite, the secret key), 105 for a newer schema.
    public init(dataDirectory: String, firstUID: UInt32) throws(PaddockError) {
        database = try Database(path: dataDirectory + "/paddock.db")
        try database.migrate(Schema.migrations)
        secrets = try SecretBox(keyPath: dataDirectory + "/secret.key")
        self.firstUID = firstUID
    }

    /// Records a plugin from its validated manifest, with the lowest free uid.
    /// - Throws: ``PaddockError`` 102 when a plugin with that id is installed.
    @discardableResult
    public func install(_ manifest: Manifest, directory: String) throws(PaddockError) -> Record {
        try database.transaction { () throws(PaddockError) in
            guard try record(manifest.name) == nil else {
                throw PaddockError(.wrongFormat, "\(manifest.name) is already installed; uninstall it first", field: "name")
            }
            let used = Set(try database.query("SELECT uid FROM plugins").compactMap { $0.first?.integer })
            var uid = Int64(firstUID)
            while used.contains(uid) { uid += 1 }
            try database.query(
                "INSERT INTO plugins (id, version, directory, state, uid) VALUES (?, ?, ?, 'installed', ?)",
                [.text(manifest.name), .text(manifest.version.description), .text(directory), .integer(uid)])
            return Record(id: manifest.name, version: manifest.version.description, directory: directory, state: .installed, uid: UInt32(uid))
        }
    }

    public func record(_ id: String) throws(PaddockError) -> Record? {
        try database.query("SELECT id, version, directory, state, uid FROM plugins WHERE id = ?", [.text(id)]).first.flatMap(Self.record)
    }

    /// Every installed plugin, by id.
    public func all() throws(PaddockError) -> [Record] {
        try database.query("SELECT id, version, directory, state, uid FROM plugins ORDER BY id").compactMap(Self.record)
    }

    public func setState(_ id: String, _ state: LifecycleState) throws(PaddockError) {
        try database.query("UPDATE plugins SET state = ?, updated_at = unixepoch() WHERE id = ?", [.text(state.rawValue), .text(id)])
        guard database.changes == 1 else { throw notInstalled(id) }
    }

    /// Whether the gateway serves the plugin's endpoints without an API key
    /// (webhooks that verify their own signatures).
    public func publicEndpoints(_ id: String) throws(PaddockError) -> Bool {
        try database.query("SELECT public_endpoints FROM plugins WHERE id = ?", [.text(id)]).first?.first?.integer == 1
    }

    public func setPublicEndpoints(_ id: String, _ open: Bool) throws(PaddockError) {
        try database.query("UPDATE plugins SET public_endpoints = ? WHERE id = ?", [.integer(open ? 1 : 0), .text(id)])
        guard database.changes == 1 else { throw notInstalled(id) }
    }

    /// Forgets a plugin and its settings.
    public func uninstall(_ id: String) throws(PaddockError) {
        try database.query("DELETE FROM plugins WHERE id = ?", [.text(id)])
        guard database.changes == 1 else { throw notInstalled(id) }
    }

    /// Stores settings, the plugin's own or one tenant's (which override the
    /// plugin's for that tenant); values of settings the manifest types
    /// `secret` are sealed.
    /// - Throws: ``PaddockError`` 102 for a setting the manifest does not declare.
    public func setSettings(
        _ id: String, _ values: [String: JSONValue], manifest: Manifest, tenant: String? = nil
    ) throws(PaddockError) {
        let declared = Dictionary(uniqueKeysWithValues: manifest.settings.map { ($0.name, $0) })
        try database.transaction { () throws(PaddockError) in
            guard try record(id) != nil else { throw notInstalled(id) }
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                guard let setting = declared[name] else {
                    throw PaddockError(.wrongFormat, "\(id) declares no setting '\(name)'", field: "settings.\(name)")
                }
                let secret = setting.type == .secret
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

    /// The settings as the plugin gets them (for a tenant: the plugin's,
    /// overridden by the tenant's), secrets decrypted.
    public func settings(_ id: String, tenant: String? = nil) throws(PaddockError) -> JSONValue {
        try loadSettings(id, tenant: tenant, reveal: true)
    }

    /// The settings as an operator may see them: secrets masked.
    public func publicSettings(_ id: String, tenant: String? = nil) throws(PaddockError) -> JSONValue {
        try loadSettings(id, tenant: tenant, reveal: false)
    }

    private func loadSettings(_ id: String, tenant: String?, reveal: Bool) throws(PaddockError) -> JSONValue {
        var rows = try database.query("SELECT name, value, secret FROM settings WHERE plugin = ?", [.text(id)])
        if let tenant {
            rows += try database.query(
                "SELECT name, value, secret FROM tenant_settings WHERE plugin = ? AND tenant = ?", [.text(id), .text(tenant)])
        }
        var values: [String: JSONValue] = [:]
        for row in rows {
            guard let name = row[0].text, let stored = row[1].text else { continue }
            if row[2].integer == 1 {
                values[name] = reveal ? try JSONValue(parsing: Array(try secrets.open(stored).utf8)) : .string(Self.mask)
            } else {
                values[name] = try JSONValue(parsing: Array(stored.utf8))
            }
        }
        return .object(values)
    }

    /// The raw stored value, for tests that check secrets are not stored in clear.
    func storedValue(_ id: String, _ name: String) throws(PaddockError) -> String? {
        try database.query("SELECT value FROM settings WHERE plugin = ? AND name = ?", [.text(id), .text(name)]).first?.first?.text
    }

    private static func record(_ row: [Database.Value]) -> Record? {
        guard row.count == 5, let id = row[0].text, let version = row[1].text, let directory = row[2].text,
            let state = row[3].text.flatMap(LifecycleState.init(rawValue:)), let uid = row[4].integer
        else { return nil }
        return Record(id: id, version: version, directory: directory, state: state, uid: UInt32(uid))
    }

    private func notInstalled(_ id: String) -> PaddockError {
        PaddockError(.pluginUnavailable, "no plugin named \(id) is installed", reason: .notInstalled)
    }
}
