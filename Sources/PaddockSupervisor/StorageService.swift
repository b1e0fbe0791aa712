import NIOPosix
import PaddockCore
import PaddockStorage

/// The supervisor's one path to plugin storage and the audit log in
/// `paddock.db`: every operation runs on one dedicated thread, shared by the
/// whole process, so SQLite work (a durable commit waits for fsync) never
/// blocks an event loop or the task pool, and writes are naturally serial.
final class StorageService: Sendable {
    /// The storage thread of this process.
    private static let thread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    let path: String
    /// Touched only on the storage thread.
    private nonisolated(unsafe) var opened: (store: PluginStore, audit: AuditLog)?

    init(path: String) {
        self.path = path
    }

    /// Runs `body` on the storage thread with the store and the audit log,
    /// opening (and migrating) the database the first time.
    /// - Throws: 307 when the database cannot be opened, or what `body` throws.
    func run<T: Sendable>(_ body: @escaping @Sendable (PluginStore, AuditLog) throws -> T) async throws -> T {
        try await Self.thread.runIfActive { try body(try self.open().store, try self.open().audit) }
    }

    /// Runs `operation` on the storage thread and hands its result to
    /// `completion` there: no task, no hop but the one to the thread.
    func submit(
        _ operation: @escaping @Sendable (PluginStore) throws(PaddockError) -> JSONValue,
        completion: @escaping @Sendable (Result<JSONValue, PaddockError>) -> Void
    ) {
        Self.thread.submit { state in
            guard case .active = state else {
                return completion(.failure(PaddockError(.pluginUnavailable, "the storage thread has stopped")))
            }
            completion(Result { () throws(PaddockError) in try operation(try self.open().store) })
        }
    }

    /// The store and the audit log; call on the storage thread only.
    private func open() throws(PaddockError) -> (store: PluginStore, audit: AuditLog) {
        if let opened { return opened }
        let database = try Database(path: path)
        try database.migrate(Schema.migrations)
        let fresh = (PluginStore(database: database), AuditLog(database: database))
        opened = fresh
        return fresh
    }
}
