import Foundation
import PaddockCore
import PaddockStorage
import Testing

@Suite struct AuditLogTests {
    let path = NSTemporaryDirectory() + "paddock-audit-\(UUID().uuidString).db"

    private func log(retention: Int = AuditLog.defaultRetention) throws -> AuditLog {
        let database = try Database(path: path)
        try database.migrate(Schema.migrations)
        return AuditLog(database: database, retention: retention)
    }

    @Test func denialsOfOnePermissionInOneMinuteAreOneEventWithACountAndTheFirstAndLastCall() throws {
        let audit = try log()
        let minute: Int64 = 29_000_000 * 60_000
        for offset in 0..<500 {
            try audit.record(.init(
                at: minute + Int64(offset * 100), plugin: "loop", method: offset == 499 ? "app.list" : "storage.set",
                permission: "permission.storage", message: "call \(offset)"))
        }
        try audit.record(.init(at: minute + 60_000, plugin: "loop", method: "storage.set", permission: "permission.storage", message: "next minute"))
        try audit.record(.init(at: minute + 1, plugin: "loop", method: "tool.invoke", permission: "permission.tools", message: "tools"))
        try audit.record(.init(at: minute + 2, plugin: "other", method: "storage.set", permission: "permission.storage", message: "other"))
        var batch = AuditLog.Entry(at: minute + 3, plugin: "other", method: "storage.get", permission: "permission.storage", message: "batch", count: 40)
        batch.lastAt = minute + 9
        try audit.record(batch)

        let events = try audit.entries()
        #expect(events.map { "\($0.plugin) \($0.permission) \($0.count)" } == [
            "loop permission.storage 500", "loop permission.storage 1", "loop permission.tools 1", "other permission.storage 41",
        ])
        #expect(events[0].at == minute && events[0].method == "storage.set" && events[0].message == "call 0")
        #expect(events[0].lastAt == minute + 49_900 && events[0].lastMethod == "app.list" && events[0].lastMessage == "call 499")
        #expect(events[3].lastAt == minute + 9)
        #expect(try audit.entries(plugin: "other").count == 1)
    }

    @Test func theOldestEventsGoPastTheRetention() throws {
        let audit = try log(retention: 3)
        for minute in 0..<10 {
            try audit.record(.init(at: Int64(minute) * 60_000, plugin: "p", method: "m", permission: "x", message: "\(minute)"))
        }
        #expect(try audit.entries().map(\.message) == ["7", "8", "9"])
    }
}
