public import PaddockCore

extension Database {
    /// The schema version (`PRAGMA user_version`).
    public var schemaVersion: Int {
        get throws(PaddockError) { Int(try query("PRAGMA user_version").first?.first?.integer ?? 0) }
    }

    /// Brings the schema up to date: migration `n` (counting from 1) runs
    /// when the version is below `n`, each in its own transaction with the
    /// version bump, so a crash never leaves half a migration.
    /// - Throws: ``PaddockError`` 105 when the database is newer than this
    ///   program knows; 307 when a migration fails.
    public func migrate(_ migrations: [String]) throws(PaddockError) {
        let current = try schemaVersion
        guard current <= migrations.count else {
            throw PaddockError(.dependencyUnavailable, "the database \(path) has schema version \(current); this Paddock knows up to \(migrations.count)")
        }
        for (index, sql) in migrations.enumerated() where index >= current {
            try transaction { () throws(PaddockError) in
                try execute(sql)
                try execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }
}
