import PaddockCore
import PaddockStorage

/// Each tenant's flows and the records of their recent runs, in `paddock.db`.
/// A tenant keeps at most ``maximumFlows`` flows, each flow its last
/// ``keptRuns`` runs and the tenant its last ``keptTenantRuns``: a tenant
/// that loops on `run` keeps a bounded record.
final class FlowStore: Sendable {
    static let maximumFlows = 256
    static let keptRuns = 100
    static let keptTenantRuns = 1000
    private let owner: DatabaseOwner

    init(owner: DatabaseOwner) {
        self.owner = owner
    }

    /// Stores a flow, replacing the one of that id.
    /// - Returns: true when it is new.
    /// - Throws: 102 when the tenant has ``maximumFlows`` other flows.
    func put(tenant: String, id: String, definition: JSONValue) async throws -> Bool {
        try await owner.run { database in
            try database.transaction { () throws(PaddockError) -> Bool in
                let exists = try !database.query("SELECT 1 FROM flows WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).isEmpty
                let count = try database.query("SELECT count(*) FROM flows WHERE tenant = ?", [.text(tenant)]).first?.first?.integer ?? 0
                if !exists, count >= Self.maximumFlows {
                    throw PaddockError(.wrongFormat, "tenant \(tenant) has \(Self.maximumFlows) flows, the most it may keep; delete one first", field: "id")
                }
                try database.query(
                    """
                    INSERT INTO flows (tenant, id, definition) VALUES (?, ?, ?)
                    ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition, updated_at = unixepoch()
                    """, [.text(tenant), .text(id), .text(definition.jsonText)])
                return !exists
            }
        }
    }

    /// The stored definition, or nil.
    func definition(tenant: String, id: String) async throws -> JSONValue? {
        let text = try await owner.run { database in
            try database.query("SELECT definition FROM flows WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).first?.first?.text
        }
        return try text.map { text throws(PaddockError) in try JSONValue(parsing: Array(text.utf8)) }
    }

    /// The tenant's flows: id and when each was last stored (Unix seconds).
    func list(tenant: String) async throws -> [(id: String, updatedAt: Int)] {
        try await owner.run { database in
            try database.query("SELECT id, updated_at FROM flows WHERE tenant = ? ORDER BY id", [.text(tenant)]).compactMap { row in
                row[0].text.map { ($0, Int(row[1].integer ?? 0)) }
            }
        }
    }

    /// Deletes a flow and its runs.
    /// - Returns: false when there was no such flow.
    func delete(tenant: String, id: String) async throws -> Bool {
        try await owner.run { database in
            try database.transaction { () throws(PaddockError) -> Bool in
                try database.query("DELETE FROM flow_runs WHERE tenant = ? AND flow = ?", [.text(tenant), .text(id)])
                try database.query("DELETE FROM flows WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)])
                return database.changes > 0
            }
        }
    }

    /// Records a run (a new one, or a running one's end), forgetting the
    /// flow's runs past the last ``keptRuns``.
    func record(_ record: FlowRecord) async throws {
        let row: [Database.Value] = [
            .text(record.run), .text(record.tenant), .text(record.flow), .text(record.status.rawValue), .integer(Int64(record.startedMs)),
            .text(record.json.jsonText),
        ]
        try await owner.run { database in
            try database.transaction { () throws(PaddockError) in
                try database.query(
                    """
                    INSERT INTO flow_runs (id, tenant, flow, status, started_ms, record) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record
                    """, row)
                try database.query(
                    """
                    DELETE FROM flow_runs WHERE tenant = ?1 AND flow = ?2 AND id NOT IN
                        (SELECT id FROM flow_runs WHERE tenant = ?1 AND flow = ?2 ORDER BY started_ms DESC, rowid DESC LIMIT ?3)
                    """, [.text(record.tenant), .text(record.flow), .integer(Int64(Self.keptRuns))])
                try database.query(
                    """
                    DELETE FROM flow_runs WHERE tenant = ?1 AND id NOT IN
                        (SELECT id FROM flow_runs WHERE tenant = ?1 ORDER BY started_ms DESC, rowid DESC LIMIT ?2)
                    """, [.text(record.tenant), .integer(Int64(Self.keptTenantRuns))])
            }
        }
    }

    /// A run's record, or nil (also for another tenant's run).
    func run(tenant: String, id: String) async throws -> JSONValue? {
        let text = try await owner.run { database in
            try database.query("SELECT record FROM flow_runs WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).first?.first?.text
        }
        return text.flatMap { try? JSONValue(parsing: Array($0.utf8)) }
    }

    /// Marks the runs that were running when paddockd stopped as `interrupted`.
    func sweepInterrupted() async throws {
        try await owner.run { database in
            try database.query(
                "UPDATE flow_runs SET status = 'interrupted', record = json_set(record, '$.status', 'interrupted') WHERE status = 'running'")
        }
    }

    /// The flow's recent runs, newest first: id, status, start.
    func runs(tenant: String, flow: String) async throws -> [JSONValue] {
        try await owner.run { database in
            try database.query(
                "SELECT id, status, started_ms FROM flow_runs WHERE tenant = ? AND flow = ? ORDER BY started_ms DESC, rowid DESC",
                [.text(tenant), .text(flow)]
            ).map { row in
                ["run": .string(row[0].text ?? ""), "status": .string(row[1].text ?? ""), "started_ms": .int(Int(row[2].integer ?? 0))]
            }
        }
    }
}
