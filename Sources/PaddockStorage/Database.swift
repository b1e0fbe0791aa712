internal import CSQLite
import Glibc
public import PaddockCore

/// One SQLite connection through Debian's libsqlite3: WAL journal, a short
/// busy timeout, foreign keys on, prepared statements kept for reuse. Not
/// thread-safe: a ``DatabaseOwner``'s thread uses it, and nothing else.
public final class Database {
    /// A value bound to or read from a statement.
    public enum Value: Equatable, Sendable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])

        public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
        public var text: String? { if case .text(let value) = self { value } else { nil } }
        public var blob: [UInt8]? {
            switch self {
            case .blob(let bytes): bytes
            case .text(let text): Array(text.utf8)
            default: nil
            }
        }
    }

    /// How long a statement waits for another process's lock before failing with SQLITE_BUSY.
    static let busyTimeoutMilliseconds: Int32 = 100

    private let handle: OpaquePointer
    public let path: String
    /// Prepared statements by SQL text: preparing costs more than running.
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating it when missing, readable by its owner only) the
    /// database at `path`.
    /// - Throws: ``PaddockError`` 307 when SQLite cannot open it.
    public init(path: String) throws(PaddockError) {
        // Created 0600 before SQLite sees it: its -wal and -shm files take the
        // same mode, and plugin data and settings are nobody else's to read.
        let created = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if created >= 0 { close(created) }
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw PaddockError(.internalError, "cannot open the database \(path): \(message)", details: ["sqlite_code": String(result)])
        }
        self.handle = handle
        self.path = path
        // Within a process every access goes through the file's one
        // DatabaseOwner, so our own connections never wait for each other.
        // Another process may still hold the write lock for a moment:
        // `paddock run --data DIR` runs an engine of its own on the file, and
        // an operator may open it with sqlite3. A commit holds the lock for
        // about 0.1 ms here (`make bench`), so a short wait covers them; a
        // long one would stall every plugin's storage queued behind the
        // owner's thread. A lock held longer is reported: 307, sqlite_code 5.
        sqlite3_busy_timeout(handle, Self.busyTimeoutMilliseconds)
        // Durability of an acknowledged write. Paddock answers a write only
        // after COMMIT has returned, so the write is in the WAL file:
        // - kill -9 of paddockd at any moment: the WAL is in the kernel's page
        //   cache, and the next open replays every committed frame (a frame
        //   without its commit record is ignored, so half a transaction never
        //   appears);
        // - power loss or a kernel crash: synchronous=FULL fsyncs the WAL at
        //   every commit (NORMAL would only sync at checkpoints and could lose
        //   the last commits), at ~0.1 ms per commit here (`make bench`).
        // WAL also lets readers run while a writer commits.
        try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without results.
    public func execute(_ sql: String) throws(PaddockError) {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        guard result == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(result))
            sqlite3_free(message)
            throw error(result, text, sql: sql)
        }
    }

    /// Runs one statement with `parameters` bound to its `?`s.
    /// - Returns: every row.
    @discardableResult
    public func query(_ sql: String, _ parameters: [Value] = []) throws(PaddockError) -> [[Value]] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in parameters.enumerated() {
            let position = Int32(index + 1)
            let bound: Int32 =
                switch value {
                case .null: sqlite3_bind_null(statement, position)
                case .integer(let number): sqlite3_bind_int64(statement, position, number)
                case .real(let number): sqlite3_bind_double(statement, position, number)
                case .text(let text): sqlite3_bind_text(statement, position, text, -1, paddock_sqlite_transient())
                case .blob(let bytes):
                    bytes.withUnsafeBytes { sqlite3_bind_blob(statement, position, $0.baseAddress, Int32($0.count), paddock_sqlite_transient()) }
                }
            guard bound == SQLITE_OK else { throw error(bound, lastMessage, sql: sql) }
        }
        var rows: [[Value]] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { return rows }
            guard step == SQLITE_ROW else { throw error(step, lastMessage, sql: sql) }
            rows.append((0..<sqlite3_column_count(statement)).map { column(statement, $0) })
        }
    }

    private func prepared(_ sql: String) throws(PaddockError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else { throw error(result, lastMessage, sql: sql) }
        statements[sql] = statement
        return statement
    }

    /// Runs `body` in one transaction: all of it, or (when it throws) none of it.
    public func transaction<T>(_ body: () throws(PaddockError) -> T) throws(PaddockError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> Value {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// Every SQLite failure is the supervisor's own (307), whatever its
    /// cause: 302 is a plugin's file-size limit, and a caller could not act
    /// on a full disk or a locked database of paddockd's either.
    private func error(_ code: Int32, _ message: String, sql: String) -> PaddockError {
        PaddockError(
            .internalError, "database \(path): \(message)",
            details: ["sqlite_code": String(code), "statement": String(sql.prefix(200))])
    }
}
