import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Synchronization
import Testing

/// `POST /v1/plugins` installs and upgrades packages over HTTP; an upgrade
/// and a rollback under a tight loop of calls fail none of them.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PackageRouteTests {
    /// A copy of an example with `version`, packed; the package's bytes.
    private func package(_ example: String, version: String, in work: String) throws -> [UInt8] {
        let folder = work + "/\(example)-\(version)"
        if !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.copyItem(atPath: RunningGateway.example(example), toPath: folder)
            let manifest = try String(contentsOfFile: folder + "/manifest.yaml", encoding: .utf8)
            try Data(manifest.replacingOccurrences(of: "version: \"1.0.0\"", with: "version: \"\(version)\"").utf8)
                .write(to: URL(fileURLWithPath: folder + "/manifest.yaml"))
        }
        let packed = try ProcessRunner.run(ProcessRunner.product("paddock"), ["pack", folder, "-o", folder + ".pkg"])
        guard packed.status == 0 else { throw PaddockError(.wrongFormat, packed.stderr) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: folder + ".pkg")))
    }

    private func post(_ stack: RunningGateway, _ path: String, key: String, body: [UInt8], headers: [String: String] = [:]) throws
        -> HTTPConnection.Response
    {
        try HTTPConnection(port: stack.port, timeout: 60).request(
            "POST", path, headers: headers.merging(["Authorization": "Bearer \(key)", "Content-Type": "application/zip"]) { $1 },
            body: body)
    }

    @Test func aPackageInstallsOverHTTPWithAnAdminKeyOnly() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let stack = try RunningGateway(config: "limits: {package: 64KiB}\n")
        let first = try package("text-tools", version: "1.0.0", in: work)
        let tenant = try stack.key("--tenant", "acme")
        #expect(try post(stack, "/v1/plugins", key: tenant, body: first).status == 403)

        let installed = try post(stack, "/v1/plugins", key: stack.admin, body: first)
        #expect(installed.status == 201, "\(installed.text)")
        #expect(installed.json?["id"] == "text-tools")
        #expect(installed.json?["directory"] == .string(stack.data + "/plugins/text-tools/1.0.0"))
        #expect(try stack.request("POST", "/v1/plugins/text-tools/activate", key: stack.admin).status == 200)
        let call = try stack.request("POST", "/v1/plugins/text-tools/tools/word_count", key: tenant, body: #"{"text": "a b"}"#)
        #expect(call.json?["words"] == .int(2), "\(call.text)")

        // The same package again changes nothing; the same version with other contents is refused.
        let again = try post(stack, "/v1/plugins", key: stack.admin, body: first)
        #expect(again.status == 200 && again.json?["unchanged"] == .bool(true), "\(again.text)")
        try Data("# changed\n".utf8).write(to: URL(fileURLWithPath: work + "/text-tools-1.0.0/NOTES.md"))
        let changed = try post(stack, "/v1/plugins", key: stack.admin, body: try package("text-tools", version: "1.0.0", in: work))
        #expect(changed.status == 400 && changed.json?["code"] == .int(102), "\(changed.text)")

        // Garbage is a coded 400; a body past limits.package a 413.
        let garbage = try post(stack, "/v1/plugins", key: stack.admin, body: Array("not a zip".utf8))
        #expect(garbage.status == 400 && garbage.json?["details"]?["reason"] == "not_a_package", "\(garbage.text)")
        let large = try post(stack, "/v1/plugins", key: stack.admin, body: [UInt8](repeating: 0x50, count: 65 << 10))
        #expect(large.status == 413 && large.json?["code"] == .int(102), "\(large.text)")

        // Progress as server-sent events, then the result.
        let upgrade = try package("text-tools", version: "1.0.1", in: work)
        let events = try post(stack, "/v1/plugins", key: stack.admin, body: upgrade, headers: ["Accept": "text/event-stream"])
        #expect(events.status == 200)
        let text = events.text
        #expect(text.contains("event: progress"), "\(text)")
        #expect(text.contains("event: result"), "\(text)")
        #expect(text.contains(#""previous_version":"1.0.0""#), "\(text)")
        let versions = try stack.request("GET", "/v1/plugins/text-tools/versions", key: stack.admin)
        #expect(versions.json?["current"] == "1.0.1", "\(versions.text)")
        #expect(versions.json?["versions"]?.arrayValue?.count == 2)
    }

    @Test func anUpgradeAndARollbackUnderLoadFailNoCall() throws {
        let work = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let stack = try RunningGateway()
        #expect(try post(stack, "/v1/plugins", key: stack.admin, body: try package("notes", version: "1.0.0", in: work)).status == 201)
        #expect(try stack.request("POST", "/v1/plugins/notes/activate", key: stack.admin).status == 200)
        let tenant = try stack.key("--tenant", "acme")
        let saved = try stack.request("POST", "/v1/plugins/notes/tools/save_note", key: tenant, body: #"{"title": "kept", "text": "across versions"}"#)
        let id = try #require(saved.json?["id"], "\(saved.text)")
        let next = try package("notes", version: "1.1.0", in: work)

        // A client reading the note in a tight loop, on one keep-alive connection.
        let stop = Atomic(false)
        let failures = Mutex<[String]>([])
        let calls = Atomic(0)
        let body = Array(JSONValue.object(["id": id]).jsonText.utf8)
        let port = stack.port
        let client = Thread {
            guard let connection = try? HTTPConnection(port: port, timeout: 30) else { return }
            while !stop.load(ordering: .relaxed) {
                let answer = try? connection.request(
                    "POST", "/v1/plugins/notes/tools/get_note", headers: ["Authorization": "Bearer \(tenant)"], body: body)
                if answer?.status != 200 || answer?.json?["text"] != "across versions" {
                    failures.withLock { $0.append("\(answer?.status ?? 0): \(answer?.text ?? "no answer")") }
                }
                calls.add(1, ordering: .relaxed)
            }
        }
        client.start()
        func waitForCalls(_ count: Int) {
            let target = calls.load(ordering: .relaxed) + count
            while calls.load(ordering: .relaxed) < target, failures.withLock({ $0.count }) < 10 { usleep(1000) }
        }
        waitForCalls(50)
        let upgraded = try post(stack, "/v1/plugins", key: stack.admin, body: next)
        #expect(upgraded.status == 200, "\(upgraded.text)")
        waitForCalls(50)
        let rolledBack = try stack.request("POST", "/v1/plugins/notes/rollback", key: stack.admin)
        #expect(rolledBack.status == 200, "\(rolledBack.text)")
        waitForCalls(50)
        stop.store(true, ordering: .relaxed)
        while !client.isFinished { usleep(1000) }

        #expect(failures.withLock { $0 } == [])
        #expect(calls.load(ordering: .relaxed) >= 150)
        let versions = try stack.request("GET", "/v1/plugins/notes/versions", key: stack.admin)
        #expect(versions.json?["current"] == "1.0.0", "\(versions.text)")
        // Each switch left one process running: the old ones were stopped.
        let status = try stack.paddock("status", "notes", "--json")
        #expect(status.stdout.contains("\"state\":\"running\""), "\(status.stdout)")
    }
}
