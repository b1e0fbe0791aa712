import Foundation
import PaddockCore
import PaddockStorage
import Testing

@Suite struct DatabaseTests {
    private func scratch() -> String {
        NSTemporaryDirectory() + "paddock-db-\(UUID().uuidString).db"
    }

    @Test func storesEveryKindOfValueAndUsesWAL() throws {
        let path = scratch()
        let database = try Database(path: path)
        #expect(try database.query("PRAGMA journal_mode").first?.first == .text("wal"))
        try database.execute("CREATE TABLE t (a, b, c, d, e)")
        try database.query("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(7), .real(1.5), .text("héllo"), .blob([0, 1, 255]), .null])
        for file in [path, path + "-wal"] {
            var info = stat()
            #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600, "\(file) is only its owner's")
        }
        #expect(try database.query("SELECT * FROM t") == [[.integer(7), .real(1.5), .text("héllo"), .blob([0, 1, 255]), .null]])
        // A second connection sees the committed row.
        #expect(try Database(path: path).query("SELECT count(*) FROM t").first?.first == .integer(1))
    }

    @Test func transactionsAreAllOrNothing() throws {
        let database = try Database(path: scratch())
        try database.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        let failure = #expect(throws: PaddockError.self) {
            try database.transaction { () throws(PaddockError) in
                try database.query("INSERT INTO t VALUES ('a')")
                try database.query("INSERT INTO t VALUES ('a')")  // violates the key
            }
        }
        #expect(failure?.details["sqlite_code"] != nil)
        #expect(try database.query("SELECT count(*) FROM t").first?.first == .integer(0))
    }

    @Test func migrationsRunOnceInOrderAndRefuseANewerSchema() throws {
        let path = scratch()
        let migrations = ["CREATE TABLE a (x)", "CREATE TABLE b (y)"]
        try Database(path: path).migrate(migrations)
        let database = try Database(path: path)
        #expect(try database.schemaVersion == 2)
        try database.migrate(migrations)  // nothing to do
        try database.migrate(migrations + ["ALTER TABLE a ADD COLUMN z"])
        #expect(try database.schemaVersion == 3)
        let newer = #expect(throws: PaddockError.self) { try database.migrate(migrations) }
        #expect(newer?.code == .dependencyUnavailable)
    }

    @Test func badSQLAndUnopenablePathsAreCoded() {
        let unopenable = #expect(throws: PaddockError.self) { try Database(path: "/nonexistent/dir/x.db") }
        #expect(unopenable?.code == .internalError)
        let error = #expect(throws: PaddockError.self) { try Database(path: scratch()).query("SELEKT 1") }
        #expect(error?.code == .internalError, "an SQLite failure is the supervisor's own (307), not a file limit (302)")
        #expect(error?.details["sqlite_code"] != nil)
    }
}
