import PaddockCore
import PaddockStorage

/// The supervisor's path to plugin storage and the audit log in
/// `paddock.db`, over the file's ``DatabaseOwner``: every operation runs on
/// the owner's thread, so SQLite work (a durable commit waits for fsync)
/// never blocks an event loop or the task pool, and writes are naturally
/// serial. The daemon's registry and API keys use the same owner.
final class StorageService: Sendable {
    let owner: DatabaseOwner

    /// Storage in the database at `path`, opened (and migrated) on first use.
    init(path: String) {
        owner = DatabaseOwner(path: path)
    }

    /// Runs `body` on the owner's thread with the store and the audit log.
    /// - Throws: 307 when the database cannot be opened, or what `body` throws.
    func run<T: Sendable>(_ body: @escaping @Sendable (PluginStore, AuditLog) throws -> T) async throws -> T {
        try await owner.run { database in try body(PluginStore(database: database), AuditLog(database: database)) }
    }

    /// Runs `operation` on the owner's thread and hands its result to
    /// `completion` there: no task, no hop but the one to the thread.
    func submit(
        _ operation: @escaping @Sendable (PluginStore) throws(PaddockError) -> JSONValue,
        completion: @escaping @Sendable (Result<JSONValue, PaddockError>) -> Void
    ) {
        owner.submit { database in
            completion(Result { () throws(PaddockError) in try operation(PluginStore(database: try database.get())) })
        }
    }
}
