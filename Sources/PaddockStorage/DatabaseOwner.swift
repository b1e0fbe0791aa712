import NIOPosix
public import PaddockCore

/// The one thread that uses a database file. It opens (and migrates) the
/// connection on first use, runs the work handed to it one piece at a time,
/// and stops when the owner goes away. A commit waits for fsync and a query
/// may scan a table, so none of that may run on an event loop or the task
/// pool; and with every access of the process serial on this thread, SQLite
/// never has two writers of ours to arbitrate.
///
/// Make one per file and share it: in `paddockd` the registry, the API keys,
/// plugin storage and the audit log all use the one owner of `paddock.db`.
public final class DatabaseOwner: Sendable {
    public let path: String
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let connection: Connection

    /// An owner of the database at `path`, brought to `migrations` when it
    /// is first used. Starts the thread; opens nothing yet.
    public init(path: String, migrations: [String] = Schema.migrations) {
        self.path = path
        connection = Connection(path: path, migrations: migrations)
        thread.start()
    }

    /// The thread ends after the work it is running; the connection closes
    /// when the last piece of work has let go of it.
    deinit {
        thread.shutdownGracefully { _ in }
    }

    /// Opens and migrates the database now rather than on first use, so that
    /// a caller can refuse to start over a database it cannot use.
    /// - Throws: ``PaddockError`` 307 when it cannot be opened; 105 when its schema is newer than `migrations`.
    public func open() async throws {
        try await run { _ in }
    }

    /// Runs `body` on the owner's thread with the connection and returns its
    /// result. Once handed over, the work runs even if the calling task is
    /// cancelled: a sequence of writes is not cut short because its caller went away.
    /// - Throws: ``PaddockError`` 307 when the database cannot be opened, 105
    ///   when its schema is too new, or what `body` throws.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            submit { database in
                continuation.resume(with: Result { try body(try database.get()) })
            }
        }
    }

    /// Runs `body` on the owner's thread and nothing else: for callers on an
    /// event loop that answer from that thread, without a task.
    /// - Parameter body: gets the connection, or the error that opening it
    ///   gave (306 when the owner has stopped).
    public func submit(_ body: @escaping @Sendable (Result<Database, PaddockError>) -> Void) {
        let connection = self.connection
        thread.submit { state in
            guard case .active = state else {
                return body(.failure(PaddockError(.pluginUnavailable, "the thread of the database \(connection.path) has stopped")))
            }
            body(Result { () throws(PaddockError) in try connection.open() })
        }
    }
}

extension DatabaseOwner {
    /// The connection, which only the owner's thread touches.
    private final class Connection: Sendable {
        let path: String
        let migrations: [String]
        /// Used on the owner's thread only (and closed by deinit, once no work
        /// holds it), so the connection, which is not thread-safe, never sees two threads.
        private nonisolated(unsafe) var database: Database?

        init(path: String, migrations: [String]) {
            self.path = path
            self.migrations = migrations
        }

        /// The connection, opened and migrated the first time; after a
        /// failure the next piece of work tries again.
        func open() throws(PaddockError) -> Database {
            if let database { return database }
            let opened = try Database(path: path)
            try opened.migrate(migrations)
            database = opened
            return opened
        }
    }
}
