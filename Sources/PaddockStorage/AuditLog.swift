public import PaddockCore

/// Denied host calls, in `paddock.db`: when, which plugin, what it called
/// and the permission it lacked. Not thread-safe: one thread owns it.
public final class AuditLog {
    public struct Entry: Sendable, Equatable {
        /// Milliseconds since 1970.
        public var at: Int64
        public var plugin: String
        public var method: String
        public var permission: String
        public var message: String

        public init(at: Int64, plugin: String, method: String, permission: String, message: String) {
            self.at = at
            self.plugin = plugin
            self.method = method
            self.permission = permission
            self.message = message
        }
    }

    private let database: Database

    /// A log over `database`, whose schema ``Schema/migrations`` made.
    public init(database: Database) {
        self.database = database
    }

    public func record(_ entry: Entry) throws(PaddockError) {
        try database.query(
            "INSERT INTO audit_log (at_ms, plugin, method, permission, message) VALUES (?, ?, ?, ?, ?)",
            [.integer(entry.at), .text(entry.plugin), .text(entry.method), .text(entry.permission), .text(entry.message)])
    }

    /// The newest `limit` entries (of one plugin, or of all), oldest first.
    public func entries(plugin: String? = nil, limit: Int = 100) throws(PaddockError) -> [Entry] {
        let rows = try database.query(
            """
            SELECT at_ms, plugin, method, permission, message FROM audit_log
            WHERE ?1 IS NULL OR plugin = ?1 ORDER BY id DESC LIMIT ?2
            """, [plugin.map(Database.Value.text) ?? .null, .integer(Int64(max(0, limit)))])
        return rows.reversed().compactMap { row in
            guard let at = row[0].integer, let plugin = row[1].text, let method = row[2].text,
                let permission = row[3].text, let message = row[4].text
            else { return nil }
            return Entry(at: at, plugin: plugin, method: method, permission: permission, message: message)
        }
    }
}
