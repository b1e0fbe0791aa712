public import PaddockCore

/// The plugins' key-value store in `paddock.db`: byte values under UTF-8
/// keys, one namespace per plugin and tenant, each capped at the plugin's
/// declared quota.
///
/// Usage is kept in `storage_usage` and changed in the same transaction as
/// the data it counts, so it is exact after any sequence of operations and
/// after a crash; ``check(plugin:)`` recomputes it from the data. Every write
/// takes SQLite's write lock first (`BEGIN IMMEDIATE`), so concurrent writers
/// (connections or processes) are serialised and can never push a namespace
/// over its quota. Not thread-safe: one thread owns a store.
public final class PluginStore {
    /// Whose data: a plugin, within a tenant (`""` is the default tenant).
    public struct Namespace: Hashable, Sendable, CustomStringConvertible {
        public var plugin: String
        public var tenant: String

        public init(plugin: String, tenant: String = "") {
            self.plugin = plugin
            self.tenant = tenant
        }

        public var description: String { tenant.isEmpty ? plugin : "\(plugin) (tenant \(tenant))" }
    }

    /// When a `set` may write.
    public enum Condition: Sendable, Equatable {
        case always
        /// Only when the key has no value.
        case ifAbsent
        /// Only when the key's value is exactly this (compare-and-set).
        case matches([UInt8])
    }

    /// One page of ``list(_:prefix:after:limit:withValues:)``.
    public struct Page: Sendable, Equatable {
        public struct Item: Sendable, Equatable {
            public var key: String
            public var size: Int
            public var value: [UInt8]?
        }

        public var items: [Item]
        /// Pass as `after` for the next page; nil on the last page.
        public var next: String?
    }

    /// What every entry (key-value pair, blob or upload) costs on top of its
    /// key and value bytes: roughly SQLite's own per-row and index overhead.
    public static let entryOverhead = 32
    /// The longest key, and blob name, in UTF-8 bytes.
    public static let maximumKeyBytes = 1024
    /// The most items one `list` returns.
    public static let maximumPageSize = 1000

    let database: Database

    /// A store over `database`, whose schema ``Schema/migrations`` made.
    public init(database: Database) {
        self.database = database
    }

    /// Opens `path` with durable settings and brings its schema up to date.
    public convenience init(path: String) throws(PaddockError) {
        let database = try Database(path: path)
        try database.migrate(Schema.migrations)
        self.init(database: database)
    }

    // MARK: Entries

    /// The key's value, or nil.
    public func get(_ namespace: Namespace, key: String) throws(PaddockError) -> [UInt8]? {
        try Self.checkName(key, "key")
        return try database.query(
            "SELECT value FROM storage_entries WHERE plugin = ? AND tenant = ? AND key = ?",
            [.text(namespace.plugin), .text(namespace.tenant), .text(key)]
        ).first?.first?.blob
    }

    /// Stores `value` under `key` when `condition` holds and the namespace
    /// stays within `quota` bytes.
    /// - Returns: whether it was stored (false: the condition did not hold).
    /// - Throws: 205 when the write would exceed the quota (nothing changes);
    ///   102 for a key that is empty or longer than 1 KiB.
    @discardableResult
    public func set(
        _ namespace: Namespace, key: String, value: [UInt8], quota: Int, condition: Condition = .always
    ) throws(PaddockError) -> Bool {
        try Self.checkName(key, "key")
        return try database.transaction { () throws(PaddockError) in
            let current = try get(namespace, key: key)
            switch condition {
            case .always: break
            case .ifAbsent: if current != nil { return false }
            case .matches(let expected): if current != expected { return false }
            }
            let old = try current.map { value throws(PaddockError) in try Self.cost(key, value.count, "value") } ?? 0
            try charge(namespace, try Self.cost(key, value.count, "value") - old, quota: quota)
            try database.query(
                """
                INSERT INTO storage_entries (plugin, tenant, key, value) VALUES (?, ?, ?, ?)
                ON CONFLICT (plugin, tenant, key) DO UPDATE SET value = excluded.value
                """,
                [.text(namespace.plugin), .text(namespace.tenant), .text(key), .blob(value)])
            return true
        }
    }

    /// Removes a key.
    /// - Returns: whether it existed.
    @discardableResult
    public func delete(_ namespace: Namespace, key: String) throws(PaddockError) -> Bool {
        try Self.checkName(key, "key")
        return try database.transaction { () throws(PaddockError) in
            guard let current = try get(namespace, key: key) else { return false }
            try database.query(
                "DELETE FROM storage_entries WHERE plugin = ? AND tenant = ? AND key = ?",
                [.text(namespace.plugin), .text(namespace.tenant), .text(key)])
            try charge(namespace, -(try Self.cost(key, current.count, "value")), quota: .max)
            return true
        }
    }

    /// Keys starting with `prefix`, in byte order, after the key `after`.
    /// - Parameter limit: at most this many (capped at ``maximumPageSize``).
    public func list(
        _ namespace: Namespace, prefix: String = "", after: String? = nil, limit: Int = 100, withValues: Bool = false
    ) throws(PaddockError) -> Page {
        let limit = max(1, min(limit, Self.maximumPageSize))
        let rows = try database.query(
            """
            SELECT key, length(value), \(withValues ? "value" : "NULL") FROM storage_entries
            WHERE plugin = ? AND tenant = ? AND key >= ? AND key > ? AND substr(key, 1, length(?)) = ?
            ORDER BY key LIMIT ?
            """,
            [
                .text(namespace.plugin), .text(namespace.tenant), .text(prefix), after.map(Database.Value.text) ?? .text(""),
                .text(prefix), .text(prefix), .integer(Int64(limit + 1)),
            ])
        let items = rows.prefix(limit).compactMap { row -> Page.Item? in
            guard let key = row[0].text, let size = row[1].integer else { return nil }
            return Page.Item(key: key, size: Int(size), value: withValues ? row[2].blob ?? [] : nil)
        }
        return Page(items: items, next: rows.count > limit ? items.last?.key : nil)
    }

    /// The bytes the namespace uses, as recorded.
    public func usage(_ namespace: Namespace) throws(PaddockError) -> Int {
        Int(
            try database.query(
                "SELECT bytes FROM storage_usage WHERE plugin = ? AND tenant = ?",
                [.text(namespace.plugin), .text(namespace.tenant)]
            ).first?.first?.integer ?? 0)
    }

    /// The recorded usage of each of `plugin`'s namespaces, by tenant: cheap,
    /// unlike ``check(plugin:)``, which adds up the data.
    public func usageByTenant(plugin: String) throws(PaddockError) -> [String: Int] {
        var usage: [String: Int] = [:]
        for row in try database.query("SELECT tenant, bytes FROM storage_usage WHERE plugin = ?", [.text(plugin)]) {
            if let tenant = row[0].text, let bytes = row[1].integer { usage[tenant] = Int(bytes) }
        }
        return usage
    }

    // MARK: Checking

    /// One namespace's recorded usage against the usage its data adds up to.
    public struct UsageCheck: Sendable, Equatable {
        public var namespace: Namespace
        public var recorded: Int
        public var computed: Int
        public var consistent: Bool { recorded == computed }
    }

    /// Recomputes the usage of every namespace of `plugin` from its data.
    public func check(plugin: String) throws(PaddockError) -> [UsageCheck] {
        let overhead = Self.entryOverhead
        let rows = try database.query(
            """
            WITH computed (tenant, bytes) AS (
                SELECT tenant, length(CAST(key AS BLOB)) + length(value) + \(overhead) FROM storage_entries WHERE plugin = ?1
                UNION ALL SELECT tenant, length(CAST(name AS BLOB)) + size + \(overhead) FROM storage_blobs WHERE plugin = ?1
                UNION ALL SELECT tenant, length(CAST(name AS BLOB)) + size + \(overhead) FROM storage_uploads WHERE plugin = ?1
            ),
            totals (tenant, bytes) AS (SELECT tenant, sum(bytes) FROM computed GROUP BY tenant),
            tenants (tenant) AS (SELECT tenant FROM totals UNION SELECT tenant FROM storage_usage WHERE plugin = ?1)
            SELECT tenants.tenant,
                coalesce((SELECT bytes FROM storage_usage WHERE plugin = ?1 AND tenant = tenants.tenant), 0),
                coalesce((SELECT bytes FROM totals WHERE tenant = tenants.tenant), 0)
            FROM tenants ORDER BY tenants.tenant
            """, [.text(plugin)])
        return rows.map { row in
            UsageCheck(
                namespace: Namespace(plugin: plugin, tenant: row[0].text ?? ""),
                recorded: Int(row[1].integer ?? 0), computed: Int(row[2].integer ?? 0))
        }
    }

    /// Forgets everything `plugin` stored, in every tenant.
    public func removeAll(plugin: String) throws(PaddockError) {
        try database.transaction { () throws(PaddockError) in
            try database.query(
                """
                DELETE FROM storage_chunks WHERE content IN (
                    SELECT id FROM storage_uploads WHERE plugin = ?1 UNION SELECT content FROM storage_blobs WHERE plugin = ?1)
                """, [.text(plugin)])
            for table in ["storage_entries", "storage_blobs", "storage_uploads", "storage_usage"] {
                try database.query("DELETE FROM \(table) WHERE plugin = ?", [.text(plugin)])
            }
        }
    }

    // MARK: Accounting

    /// The largest size an entry, blob or upload may declare: far above any
    /// quota, and far enough below `Int.max` that no sum of costs overflows.
    public static let maximumSize = 1 << 53

    /// What an entry with this key (or blob name) and size costs.
    /// - Throws: 102 naming `field` for a size below 0 or above ``maximumSize``.
    static func cost(_ name: String, _ size: Int, _ field: String) throws(PaddockError) -> Int {
        guard (0...maximumSize).contains(size) else {
            throw PaddockError(
                .wrongFormat, "a storage \(field) is 0 to \(maximumSize) bytes, not \(size)", field: field,
                details: ["maximum": String(maximumSize)])
        }
        return name.utf8.count + size + entryOverhead
    }

    /// The bytes `plugin` uses in all its tenants together: what its quota bounds.
    public func usage(plugin: String) throws(PaddockError) -> Int {
        Int(
            try database.query("SELECT coalesce(sum(bytes), 0) FROM storage_usage WHERE plugin = ?", [.text(plugin)])
                .first?.first?.integer ?? 0)
    }

    /// The operator's quota for the namespace's tenant, if it set one.
    public func tenantQuota(_ namespace: Namespace) throws(PaddockError) -> Int? {
        try database.query(
            "SELECT bytes FROM storage_tenant_quotas WHERE plugin = ? AND tenant = ?", [.text(namespace.plugin), .text(namespace.tenant)]
        ).first?.first?.integer.map(Int.init)
    }

    /// The tenant quotas the operator set for `plugin`, by tenant.
    public func tenantQuotas(plugin: String) throws(PaddockError) -> [String: Int] {
        var quotas: [String: Int] = [:]
        for row in try database.query("SELECT tenant, bytes FROM storage_tenant_quotas WHERE plugin = ?", [.text(plugin)]) {
            if let tenant = row[0].text, let bytes = row[1].integer { quotas[tenant] = Int(bytes) }
        }
        return quotas
    }

    /// Sets (or with nil removes) the operator's quota for one tenant: that
    /// tenant's bytes stay within it as well as within the plugin's quota.
    /// Lowering it below what the tenant stores refuses growth, never data.
    /// - Throws: 102 for bytes below 0 or above ``maximumSize``.
    public func setTenantQuota(_ namespace: Namespace, bytes: Int?) throws(PaddockError) {
        guard let bytes else {
            try database.query(
                "DELETE FROM storage_tenant_quotas WHERE plugin = ? AND tenant = ?", [.text(namespace.plugin), .text(namespace.tenant)])
            return
        }
        guard (0...Self.maximumSize).contains(bytes) else {
            throw PaddockError(.wrongFormat, "a tenant quota is 0 to \(Self.maximumSize) bytes, not \(bytes)", field: "bytes")
        }
        try database.query(
            """
            INSERT INTO storage_tenant_quotas (plugin, tenant, bytes) VALUES (?, ?, ?)
            ON CONFLICT (plugin, tenant) DO UPDATE SET bytes = excluded.bytes
            """, [.text(namespace.plugin), .text(namespace.tenant), .integer(Int64(bytes))])
    }

    /// Adds `delta` bytes to the namespace's usage; call it inside the
    /// transaction that changes the data. The quota bounds the plugin's
    /// usage over all its tenants, so inventing tenants gains no space; a
    /// tenant quota the operator set bounds that tenant's part as well.
    /// - Throws: 205 when a growth would pass `quota`; shrinking always succeeds.
    func charge(_ namespace: Namespace, _ delta: Int, quota: Int) throws(PaddockError) {
        guard delta != 0 else { return }
        if delta > 0 {
            if let tenantQuota = try tenantQuota(namespace) {
                try Self.checkRoom(
                    delta, used: try usage(namespace), limit: tenantQuota, field: "quota.tenant",
                    "\(namespace) needs \(delta) more bytes of the \(ByteSize(bytes: tenantQuota)) its operator allows this tenant")
            }
            try Self.checkRoom(
                delta, used: try usage(plugin: namespace.plugin), limit: quota, field: "permission.storage",
                "\(namespace) needs \(delta) more bytes of \(namespace.plugin)'s \(ByteSize(bytes: quota)) quota across all its tenants")
        }
        let namespaceValues: [Database.Value] = [.text(namespace.plugin), .text(namespace.tenant)]
        try database.query(
            "UPDATE storage_usage SET bytes = bytes + ? WHERE plugin = ? AND tenant = ?", [.integer(Int64(delta))] + namespaceValues)
        if database.changes == 0 {
            try database.query("INSERT INTO storage_usage (plugin, tenant, bytes) VALUES (?, ?, ?)", namespaceValues + [.integer(Int64(delta))])
        }
    }

    /// - Throws: 205 when `used + delta` passes `limit` (or overflows), saying so after `message`.
    private static func checkRoom(_ delta: Int, used: Int, limit: Int, field: String, _ message: String) throws(PaddockError) {
        let (total, overflow) = used.addingReportingOverflow(delta)
        guard overflow || total > limit else { return }
        throw PaddockError(
            .storageQuotaExceeded, "\(message) (\(used) used); nothing was written", field: field,
            details: ["quota": String(limit), "usage": String(used), "needed": String(delta)])
    }

    /// Keys and blob names: 1 to 1024 UTF-8 bytes, no NUL.
    static func checkName(_ name: String, _ what: String) throws(PaddockError) {
        let count = name.utf8.count
        guard count > 0, count <= maximumKeyBytes, !name.utf8.contains(0) else {
            throw PaddockError(
                .wrongFormat, "a storage \(what) must be 1 to \(maximumKeyBytes) bytes of UTF-8 without NUL (this one has \(count))",
                field: what)
        }
    }
}
