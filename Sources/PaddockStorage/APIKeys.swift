import Crypto
public import PaddockCore

/// The gateway's API keys in `paddock.db`. A key is `pdk_<id>_<secret>`:
/// the id finds the row, and only a SHA-256 of the secret is stored,
/// compared in constant time. The key itself is shown once, at creation.
/// Every query runs on the database's ``DatabaseOwner``.
public final class APIKeys: Sendable {
    public typealias Kind = APIKeyKind

    public struct Record: Sendable, Equatable {
        public var id: String
        public var kind: Kind
        public var tenant: String?
        /// Seconds since 1970.
        public var createdAt: Int64
        public var lastUsedAt: Int64?
        public var revoked: Bool
    }

    private let owner: DatabaseOwner

    /// Keys in the database of `owner`, whose schema ``Schema/migrations`` made.
    public init(owner: DatabaseOwner) {
        self.owner = owner
    }

    /// Makes a key.
    /// - Returns: its record, and the key (never stored, never shown again).
    /// - Throws: 101 for a tenant key without a tenant; 102 for a tenant name that is not `[a-z0-9-]`; 307 for SQLite.
    public func create(kind: Kind, tenant: String?) async throws -> (record: Record, key: String) {
        if kind == .tenant {
            guard let tenant, !tenant.isEmpty else {
                throw PaddockError(.configurationMissing, "a tenant key needs its tenant", field: "tenant")
            }
            try Tenant.check(tenant)
        }
        var generator = SystemRandomNumberGenerator()
        let id = (0..<6).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
        let secret = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
        let stored = kind == .tenant ? tenant : nil
        let digest = Self.digest(secret)
        let record = try await owner.run { database in
            try database.query(
                "INSERT INTO api_keys (id, hash, kind, tenant) VALUES (?, ?, ?, ?)",
                [.text(id), .blob(digest), .text(kind.rawValue), stored.map(Database.Value.text) ?? .null])
            guard let record = try Self.record(id, in: database) else { throw PaddockError(.internalError, "the key was not recorded") }
            return record
        }
        return (record, "pdk_\(id)_\(secret)")
    }

    /// The live key `key` is, or nil (unknown, malformed or revoked); marks it used.
    /// - Throws: 307 for SQLite.
    public func verify(_ key: String) async throws -> Record? {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "pdk" else { return nil }
        let id = String(parts[1])
        let actual = Self.digest(String(parts[2]))
        return try await owner.run { database -> Record? in
            guard let record = try Self.record(id, in: database), !record.revoked,
                let row = try database.query("SELECT hash FROM api_keys WHERE id = ?", [.text(id)]).first,
                let expected = row[0].blob
            else { return nil }
            // Constant time: every byte is compared whatever the first difference.
            guard expected.count == actual.count, zip(expected, actual).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
            try database.query("UPDATE api_keys SET last_used_at = unixepoch() WHERE id = ?", [.text(id)])
            return record
        }
    }

    /// Every key, oldest first (never the keys themselves).
    /// - Throws: 307 for SQLite.
    public func all() async throws -> [Record] {
        try await owner.run { database in
            try database.query("SELECT id, kind, tenant, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at, id")
                .compactMap(Self.record)
        }
    }

    /// Revokes a key; it stops working at once.
    /// - Throws: 101 when there is no such key; 307 for SQLite.
    public func revoke(_ id: String) async throws {
        try await owner.run { database in
            guard let record = try Self.record(id, in: database) else {
                throw PaddockError(.configurationMissing, "there is no API key \(id)", field: "id")
            }
            if !record.revoked { try database.query("UPDATE api_keys SET revoked_at = unixepoch() WHERE id = ?", [.text(id)]) }
        }
    }

    private static func record(_ id: String, in database: Database) throws(PaddockError) -> Record? {
        try database.query(
            "SELECT id, kind, tenant, created_at, last_used_at, revoked_at FROM api_keys WHERE id = ?", [.text(id)]
        ).first.flatMap(Self.record)
    }

    private static func record(_ row: [Database.Value]) -> Record? {
        guard let id = row[0].text, let kind = row[1].text.flatMap(Kind.init(rawValue:)), let created = row[3].integer else { return nil }
        return Record(id: id, kind: kind, tenant: row[2].text, createdAt: created, lastUsedAt: row[4].integer, revoked: row[5].integer != nil)
    }

    private static func digest(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }
}
