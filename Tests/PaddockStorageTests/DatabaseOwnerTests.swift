import Foundation
import Glibc
import PaddockCore
import PaddockStorage
import Synchronization
import Testing

@Suite struct DatabaseOwnerTests {
    private func scratch() -> String {
        NSTemporaryDirectory() + "paddock-owner-\(UUID().uuidString).db"
    }

    @Test func runsEveryPieceOfWorkOneAtATimeOnItsOwnThread() async throws {
        let owner = DatabaseOwner(path: scratch(), migrations: ["CREATE TABLE t (n INTEGER)"])
        let seen = Seen()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await owner.run { database in
                        seen.enter()
                        defer { seen.leave() }
                        // A write transaction each: with one owner none waits for a lock.
                        try database.transaction { () throws(PaddockError) in
                            try database.query("INSERT INTO t VALUES (?)", [.integer(Int64(index))])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let (threads, overlapped) = seen.state.withLock { ($0.threads, $0.overlapped) }
        #expect(!overlapped)
        #expect(threads.count == 1)
        #expect(!threads.contains(UInt(pthread_self())))
        #expect(try await owner.run { try $0.query("SELECT count(*) FROM t").first?.first } == .integer(200))
    }

    @Test func workRunsEvenWhenItsTaskIsCancelled() async throws {
        let owner = DatabaseOwner(path: scratch(), migrations: ["CREATE TABLE t (n)"])
        try await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await owner.run { try $0.query("INSERT INTO t VALUES (1)") }
        }.value
        #expect(try await owner.run { try $0.query("SELECT count(*) FROM t").first?.first } == .integer(1))
    }

    @Test func submitAnswersOnTheOwnersThreadWithoutATask() async throws {
        let owner = DatabaseOwner(path: scratch(), migrations: [])
        let value = await withCheckedContinuation { (done: CheckedContinuation<Database.Value?, Never>) in
            owner.submit { database in
                done.resume(returning: try? database.get().query("SELECT 41 + 1").first?.first)
            }
        }
        #expect(value == .integer(42))
    }

    @Test func anUnopenableDatabaseIs307AndANewerOneIs105() async throws {
        let missing = DatabaseOwner(path: "/nonexistent/dir/x.db")
        let unopenable = await #expect(throws: PaddockError.self) { try await missing.open() }
        #expect(unopenable?.code == .internalError)

        let path = scratch()
        try Database(path: path).migrate(["CREATE TABLE a (x)", "CREATE TABLE b (y)"])
        let older = DatabaseOwner(path: path, migrations: ["CREATE TABLE a (x)"])
        let newer = await #expect(throws: PaddockError.self) { try await older.run { _ in } }
        #expect(newer?.code == .dependencyUnavailable)
    }

    @Test func theConnectionClosesWhenTheOwnerGoes() async throws {
        let path = scratch()
        do {
            let owner = DatabaseOwner(path: path, migrations: ["CREATE TABLE t (n)"])
            try await owner.run { try $0.query("INSERT INTO t VALUES (1)") }
            #expect(access(path + "-wal", F_OK) == 0)
        }
        // SQLite removes the WAL file when the last connection to it closes.
        let deadline = ContinuousClock.now + .seconds(5)
        while access(path + "-wal", F_OK) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(access(path + "-wal", F_OK) != 0)
        #expect(try Database(path: path).query("SELECT n FROM t") == [[.integer(1)]])
    }
}

/// What the pieces of work of an owner saw: their threads, and whether two ran at once.
private final class Seen: Sendable {
    let state = Mutex<(running: Bool, overlapped: Bool, threads: Set<UInt>)>((false, false, []))

    func enter() {
        state.withLock { state in
            if state.running { state.overlapped = true }
            state.running = true
            state.threads.insert(UInt(pthread_self()))
        }
    }

    func leave() {
        state.withLock { $0.running = false }
    }
}
