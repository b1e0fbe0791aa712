public import PaddockCore

/// Denied host calls, in `paddock.db`, aggregated: one event per plugin,
/// missing permission and minute, counting the denials and keeping the
/// first and the last. A plugin looping on a denied call adds a row a
/// minute, and the table keeps at most ``retention`` events (the oldest go
/// first). Not thread-safe: one thread owns it.
public final class AuditLog {
    /// One event: the denials of a plugin's calls that lacked one permission, within one minute.
    public struct Entry: Sendable, Equatable {
        /// Milliseconds since 1970, of the first denial.
        public var at: Int64
        public var plugin: String
        /// The first denied call's method and message.
        public var method: String
        public var permission: String
        public var message: String
        /// How many calls were denied.
        public var count: Int
        /// The last denied call: when, its method and message.
        public var lastAt: Int64
        public var lastMethod: String
        public var lastMessage: String

        /// One denial (or `count` of them, the first and last alike).
        public init(at: Int64, plugin: String, method: String, permission: String, message: String, count: Int = 1) {
            self.at = at
            self.plugin = plugin
            self.method = method
            self.permission = permission
            self.message = message
            self.count = count
            lastAt = at
            lastMethod = method
            lastMessage = message
        }
    }

    /// The most events kept, unless told otherwise.
    public static let defaultRetention = 100_000

    private let database: Database
    /// The most events kept: beyond, the oldest go.
    public let retention: Int

    /// A log over `database`, whose schema ``Schema/migrations`` made.
    public init(database: Database, retention: Int = defaultRetention) {
        self.database = database
        self.retention = retention
    }

    /// Adds `entry`'s denials to their minute's event (creating it).
    public func record(_ entry: Entry) throws(PaddockError) {
        try database.transaction { () throws(PaddockError) in
            try database.query(
                """
                INSERT INTO audit_events (plugin, permission, minute, count, first_ms, first_method, first_message, last_ms, last_method, last_message)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                ON CONFLICT (plugin, permission, minute) DO UPDATE SET
                    count = count + excluded.count, last_ms = excluded.last_ms,
                    last_method = excluded.last_method, last_message = excluded.last_message
                """,
                [
                    .text(entry.plugin), .text(entry.permission), .integer(entry.at / 60_000), .integer(Int64(entry.count)),
                    .integer(entry.at), .text(entry.method), .text(entry.message),
                    .integer(entry.lastAt), .text(entry.lastMethod), .text(entry.lastMessage),
                ])
            try database.query(
                "DELETE FROM audit_events WHERE id <= (SELECT max(id) FROM audit_events) - ?", [.integer(Int64(retention))])
        }
    }

    /// The newest `limit` events (of one plugin, or of all), oldest first.
    public func entries(plugin: String? = nil, limit: Int = 100) throws(PaddockError) -> [Entry] {
        let rows = try database.query(
            """
            SELECT first_ms, plugin, first_method, permission, first_message, count, last_ms, last_method, last_message
            FROM audit_events WHERE ?1 IS NULL OR plugin = ?1 ORDER BY id DESC LIMIT ?2
            """, [plugin.map(Database.Value.text) ?? .null, .integer(Int64(max(0, limit)))])
        return rows.reversed().compactMap { row in
            guard let at = row[0].integer, let plugin = row[1].text, let method = row[2].text,
                let permission = row[3].text, let message = row[4].text, let count = row[5].integer,
                let lastAt = row[6].integer, let lastMethod = row[7].text, let lastMessage = row[8].text
            else { return nil }
            var entry = Entry(at: at, plugin: plugin, method: method, permission: permission, message: message, count: Int(count))
            entry.lastAt = lastAt
            entry.lastMethod = lastMethod
            entry.lastMessage = lastMessage
            return entry
        }
    }
}
