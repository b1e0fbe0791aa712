/// The schema of `paddock.db`, one migration per entry, in order. Every
/// component that opens the file migrates it with this same list, so it
/// never matters which opens it first. Never edit a shipped migration: add one.
public enum Schema {
    public static let migrations = [
        // 1: the registry of installed plugins and their settings.
        """
        CREATE TABLE plugins (
            id TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            directory TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('installed', 'active', 'inactive', 'failed')),
            uid INTEGER NOT NULL UNIQUE,
            installed_at INTEGER NOT NULL DEFAULT (unixepoch()),
            updated_at INTEGER NOT NULL DEFAULT (unixepoch())
        );
        CREATE TABLE settings (
            plugin TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            secret INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (plugin, name)
        );
        """,
        // 2: plugin storage (entries, blobs, uploads, the usage of each
        // namespace) and the audit log of denied host calls.
        """
        CREATE TABLE storage_entries (
            plugin TEXT NOT NULL,
            tenant TEXT NOT NULL,
            key TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (plugin, tenant, key)
        ) WITHOUT ROWID;
        CREATE TABLE storage_usage (
            plugin TEXT NOT NULL,
            tenant TEXT NOT NULL,
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            PRIMARY KEY (plugin, tenant)
        ) WITHOUT ROWID;
        CREATE TABLE storage_uploads (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            plugin TEXT NOT NULL,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            algorithm TEXT NOT NULL,
            checksum TEXT NOT NULL,
            received INTEGER NOT NULL DEFAULT 0,
            UNIQUE (plugin, tenant, name)
        );
        CREATE TABLE storage_blobs (
            plugin TEXT NOT NULL,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            content INTEGER NOT NULL,
            size INTEGER NOT NULL,
            algorithm TEXT NOT NULL,
            checksum TEXT NOT NULL,
            PRIMARY KEY (plugin, tenant, name)
        ) WITHOUT ROWID;
        CREATE TABLE storage_chunks (
            content INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (content, offset)
        ) WITHOUT ROWID;
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            plugin TEXT NOT NULL,
            method TEXT NOT NULL,
            permission TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX audit_log_by_plugin ON audit_log (plugin, id);
        """,
        // 3: the gateway's API keys (hashed) and per-tenant plugin settings.
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            hash BLOB NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('admin', 'tenant')),
            tenant TEXT,
            created_at INTEGER NOT NULL DEFAULT (unixepoch()),
            last_used_at INTEGER,
            revoked_at INTEGER
        );
        CREATE TABLE tenant_settings (
            plugin TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            secret INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (plugin, tenant, name)
        );
        ALTER TABLE plugins ADD COLUMN public_endpoints INTEGER NOT NULL DEFAULT 0;
        """,
        // 4: denials aggregated, one row per plugin, permission and minute
        // with a count and the first and last call kept: the log grows with
        // distinct events, not with a plugin looping on one.
        """
        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY,
            plugin TEXT NOT NULL,
            permission TEXT NOT NULL,
            minute INTEGER NOT NULL,
            count INTEGER NOT NULL,
            first_ms INTEGER NOT NULL,
            first_method TEXT NOT NULL,
            first_message TEXT NOT NULL,
            last_ms INTEGER NOT NULL,
            last_method TEXT NOT NULL,
            last_message TEXT NOT NULL,
            UNIQUE (plugin, permission, minute)
        );
        INSERT INTO audit_events (plugin, permission, minute, count, first_ms, first_method, first_message, last_ms, last_method, last_message)
            SELECT plugin, permission, at_ms / 60000, count(*), min(at_ms), method, message, max(at_ms), method, message
            FROM audit_log GROUP BY plugin, permission, at_ms / 60000 ORDER BY min(id);
        DROP TABLE audit_log;
        CREATE INDEX audit_events_by_plugin ON audit_events (plugin, id);
        """,
        // 5: an operator's quota for one tenant of a plugin, within the plugin's own.
        """
        CREATE TABLE storage_tenant_quotas (
            plugin TEXT NOT NULL,
            tenant TEXT NOT NULL,
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            PRIMARY KEY (plugin, tenant)
        ) WITHOUT ROWID;
        """,
        // 6: the installed copies of each plugin, the current one and the one before (for rollback).
        """
        CREATE TABLE plugin_versions (
            plugin TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
            version TEXT NOT NULL,
            directory TEXT NOT NULL,
            digest TEXT NOT NULL,
            signer TEXT,
            installed_at INTEGER NOT NULL DEFAULT (unixepoch()),
            PRIMARY KEY (plugin, version)
        );
        """,
        // 7: outbound network granted by the operator at install (a Dify manifest cannot declare it).
        """
        ALTER TABLE plugins ADD COLUMN network_granted INTEGER NOT NULL DEFAULT 0;
        """,
        // 8: each tenant's flows, and the records of their recent runs.
        """
        CREATE TABLE flows (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            definition TEXT NOT NULL,
            updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
            PRIMARY KEY (tenant, id)
        ) WITHOUT ROWID;
        CREATE TABLE flow_runs (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            flow TEXT NOT NULL,
            status TEXT NOT NULL,
            started_ms INTEGER NOT NULL,
            record TEXT NOT NULL
        );
        CREATE INDEX flow_runs_by_flow ON flow_runs (tenant, flow, started_ms);
        """,
        // 9: the tenants an operator lets call a plugin (a JSON array; null: every tenant).
        """
        ALTER TABLE plugins ADD COLUMN tenants TEXT;
        """,
    ]
}
