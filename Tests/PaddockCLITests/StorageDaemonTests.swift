import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Plugin storage through a real `paddockd`: durability across kill -9,
/// and the `paddock storage` and `paddock audit` verbs.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct StorageDaemonTests {
    static let notes = RunCommandTests.repository.appendingPathComponent("examples/notes").path

    /// A plugin that writes keys one after another and reports each write
    /// the host acknowledged as a streamed chunk.
    static func writer(name: String = "durable", storage: String = "10MB") throws -> String {
        let directory = "/tmp/paddock-test-plugins/\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let manifest = """
            name: \(name)
            author: tests
            version: "1.0.0"
            type: tool
            description: writes and reads keys
            runner: {language: python, version: "3.11", entrypoint: main.py}
            permission: {storage: \(storage)}
            tools:
              - provider: test
                items:
                  - {name: write_many, parameters: [{name: count, type: integer, required: true}], source: main.py}
                  - {name: present, parameters: [], source: main.py}

            """
        let code = """
            from paddock_plugin import Plugin
            plugin = Plugin()

            @plugin.tool("write_many")
            def write_many(params, context):
                for index in range(params["count"]):
                    context.storage.set(f"k{index:06d}", f"value {index}")
                    yield {"acked": index}

            @plugin.tool("present")
            def present(params, context):
                return {"keys": [key for key in context.storage.keys("k") if context.storage.get_text(key) == f"value {int(key[1:])}"]}

            """
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": code])
        return directory
    }

    @Test func everyAcknowledgedWriteSurvivesKillingTheDaemon() throws {
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", try Self.writer()).status == 0)
        #expect(try daemon.json("activate", "durable")["state"] == .string("running"))

        let stream = try Background(
            PaddockCLI.binary, ["invoke", "--data", daemon.data, "durable", "write_many", "--params", #"{"count": 1000000}"#, "--stream"])
        var acknowledged: [Int] = []
        // Kill the daemon mid-stream, then take every acknowledgement that was already on its way.
        while acknowledged.count < 500 {
            let line = stream.nextLine()
            guard let acked = (try? JSONValue(parsing: Array(line.utf8)))?["acked"], case .int(let index) = acked else {
                Issue.record("the stream ended early: \(line)")
                return
            }
            acknowledged.append(index)
        }
        kill(daemon.process.pid, SIGKILL)
        while case .int(let index)? = (try? JSONValue(parsing: Array(stream.nextLine().utf8)))?["acked"] { acknowledged.append(index) }
        #expect(stream.wait() != 0, "the call cannot succeed: its daemon died")
        #expect(acknowledged == Array(0..<acknowledged.count))

        try daemon.restart()
        let present = try daemon.json("invoke", "durable", "present")
        let keys = Set(present["keys"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let lost = acknowledged.filter { !keys.contains(String(format: "k%06d", $0)) }
        #expect(lost.isEmpty, "acknowledged writes lost: \(lost.prefix(10)) of \(acknowledged.count)")
        #expect(keys.count >= acknowledged.count)

        let check = try daemon.paddock("storage", "check", "durable")
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let usage = try daemon.json("storage", "usage", "durable", "--json")
        #expect(usage["quota"] == .int(10_000_000))
        let expected = keys.map { key in key.utf8.count + "value \(Int(key.dropFirst())!)".utf8.count + 32 }.reduce(0, +)
        #expect(usage["bytes"] == .int(expected), "usage counts key, value and 32 bytes per entry: \(usage)")
    }

    @Test func notesExampleStoresUnderItsQuotaAndDenialsShowInTheAudit() throws {
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", Self.notes).status == 0)
        #expect(try daemon.paddock("install", DaemonTests.textTools).status == 0)
        #expect(try daemon.json("activate", "notes")["state"] == .string("running"))

        let saved = try daemon.json("invoke", "notes", "save_note", "--params", #"{"title": "Groceries", "text": "eggs, flour"}"#)
        #expect(saved["id"] == .int(1), "\(saved)")
        let found = try daemon.json("invoke", "notes", "search_notes", "--params", #"{"query": "FLOUR"}"#)
        #expect(found["notes"] == .array([["id": 1, "title": "Groceries"]]), "\(found)")
        let big = String(repeating: "x", count: 7000)
        #expect(try daemon.paddock("invoke", "notes", "save_note", "--params", #"{"title": "a", "text": "\#(big)"}"#).status == 0)
        #expect(try daemon.paddock("invoke", "notes", "save_note", "--params", #"{"title": "b", "text": "\#(big)"}"#).status == 0)
        let full = try daemon.paddock("invoke", "notes", "save_note", "--params", #"{"title": "c", "text": "\#(big)"}"#)
        #expect(full.status == 1)
        #expect(full.stderr.hasPrefix("error 205:"), "\(full.stderr)")
        let listed = try daemon.json("invoke", "notes", "list_notes")
        #expect(listed["count"] == .int(3), "the refused note changed nothing: \(listed)")

        let usage = try daemon.paddock("storage", "usage", "notes")
        #expect(usage.status == 0 && usage.stdout.contains("of 16000 bytes"), "\(usage.stdout)\(usage.stderr)")
        #expect(try daemon.paddock("storage", "check", "notes").status == 0)
        // The refused write is audited, as a missing permission is.
        let quota = try daemon.json("audit", "--json").arrayValue ?? []
        #expect(quota.count == 1 && quota.first?["method"] == .string("storage.set"), "\(quota)")
        #expect(quota.first?["permission"]?.stringValue?.hasPrefix("permission.storage (quota") == true, "\(quota)")
        #expect(try daemon.paddock("install", try Self.writer(name: "nostore", storage: "0")).status == 0)
        #expect(try daemon.json("activate", "nostore")["state"] == .string("running"))
        let denied = try daemon.paddock("invoke", "nostore", "write_many", "--params", #"{"count": 1}"#)
        #expect(denied.stderr.hasPrefix("error 104:") && denied.stderr.contains("permission.storage"), "\(denied.stderr)")
        let audit = try daemon.json("audit", "nostore", "--json")
        #expect(audit.arrayValue?.count == 1)
        #expect(audit.arrayValue?.first?["method"] == .string("storage.set"))
        #expect(audit.arrayValue?.first?["permission"] == .string("permission.storage"))
        let table = try daemon.paddock("audit")
        #expect(table.stdout.contains("nostore") && table.stdout.contains("storage.set"), "\(table.stdout)")
        #expect(try daemon.paddock("storage", "check", "no-such-plugin").stderr.hasPrefix("error 306:"))

        // After uninstalling, the data is gone with it.
        #expect(try daemon.paddock("uninstall", "notes").status == 0)
        #expect(try daemon.paddock("install", Self.notes).status == 0)
        #expect(try daemon.json("storage", "usage", "notes", "--json")["bytes"] == .int(0))
    }
    @Test func anOperatorSetsAndRemovesATenantsQuota() throws {
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", Self.notes).status == 0)
        let set = try daemon.paddock("storage", "quota", "notes", "--tenant", "acme", "--bytes", "4KiB")
        #expect(set.status == 0, "\(set.stderr)")
        let usage = try daemon.json("storage", "usage", "notes", "--json")
        #expect(usage["tenants"] == [["tenant": "acme", "bytes": 0, "quota": 4096]], "\(usage)")
        for bad in [["--bytes", "-1"], ["--bytes", "99999999TiB"], []] {
            #expect(try daemon.paddock(["storage", "quota", "notes", "--tenant", "acme"] + bad).status != 0, "\(bad)")
        }
        #expect(try daemon.paddock("storage", "quota", "notes", "--tenant", "Not A Tenant", "--bytes", "1").status != 0)
        #expect(try daemon.paddock("storage", "quota", "notes", "--tenant", "acme", "--unset").status == 0)
        #expect(try daemon.json("storage", "usage", "notes", "--json")["tenants"] == [])
    }
}
