import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PaddockCore
import PaddockTestSupport
import Testing

@testable import PaddockGateway

/// The gateway's routes in-process (HummingbirdTesting), before a real
/// `paddockd`, a stand-in, or none at all.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct GatewayRouteTests {
    /// A real supervisor with text-tools active, an admin key and a tenant key.
    final class Installed {
        let supervisor: RealSupervisor
        let admin: String
        let tenant: String

        init() throws {
            supervisor = try RealSupervisor()
            try supervisor.activate("text-tools")
            admin = try supervisor.paddock("keys", "create", "--admin")
            tenant = try supervisor.paddock("keys", "create", "--tenant", "acme")
        }
    }

    private func withGateway<Value>(
        _ socket: String,
        _ setup: TestingSetup = .router,
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let gateway = Gateway(configuration: GatewayConfiguration(), supervisorSocket: socket)
        return try await gateway.application(host: "127.0.0.1", port: 0).test(setup, body)
    }

    @Test func healthzAnswersWithoutTheSupervisorAndReadyzDoesNot() async throws {
        try await withGateway("/tmp/paddock-no-such-supervisor-\(getpid()).sock") { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(health.headers[.contentType] == "application/json")
            #expect(health.json == ["status": "ok"])

            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json?["code"] == 306)
            #expect(ready.headers[.retryAfter] == "1")
            // A keyed route cannot check its key either: 503, not 401.
            let call = try await client.invoke("word_count", key: "pdk_x", body: "{}")
            #expect(call.status == .serviceUnavailable && call.json?["code"] == 306, "\(call.text)")
        }
    }

    @Test func keysAreRequiredAndAdminRoutesRefuseTenantKeys() async throws {
        let installed = try Installed()
        defer { installed.supervisor.stop() }
        try await withGateway(installed.supervisor.socket) {
            [admin = installed.admin, tenant = installed.tenant] client in
            let text = #"{"text": "a b"}"#
            let anonymous = try await client.invoke("word_count", key: nil, body: text)
            #expect(anonymous.status == .unauthorized && anonymous.json?["code"] == 104, "\(anonymous.text)")
            #expect(anonymous.headers[.contentType] == "application/json")
            let unknown = try await client.invoke("word_count", key: "pdk_000000000000_nope", body: text)
            #expect(unknown.status == .unauthorized && unknown.json?["code"] == 104, "\(unknown.text)")
            let viaHeader = try await client.invoke("word_count", key: nil, body: text, headers: [.apiKey: tenant])
            #expect(viaHeader.status == .ok, "\(viaHeader.text)")

            let logs = "/v1/plugins/text-tools/logs?tail=5"
            let refused = try await client.execute(uri: logs, method: .get, headers: .bearer(tenant))
            #expect(refused.status == .forbidden && refused.json?["code"] == 104, "\(refused.text)")
            let deactivate = "/v1/plugins/text-tools/deactivate"
            let stopped = try await client.execute(uri: deactivate, method: .post, headers: .bearer(tenant))
            #expect(stopped.status == .forbidden, "\(stopped.text)")
            #expect(try await client.execute(uri: logs, method: .get, headers: .bearer(admin)).status == .ok)
            // The tenant key was refused, not the plugin stopped.
            #expect(try await client.invoke("word_count", key: tenant, body: text).status == .ok)
        }
    }

    @Test func aToolCallAnswersWithTheToolsJSONAndRequestErrorsAreMapped() async throws {
        let installed = try Installed()
        defer { installed.supervisor.stop() }
        try await withGateway(installed.supervisor.socket) { [tenant = installed.tenant] client in
            let words = try await client.invoke("word_count", key: tenant, body: #"{"text": "one two three"}"#)
            #expect(words.status == .ok, "\(words.text)")
            #expect(words.headers[.contentType] == "application/json")
            #expect(words.json?["words"] == 3, "\(words.text)")

            let unknown = try await client.invoke("x", of: "no-such-plugin", key: tenant, body: "{}")
            #expect(unknown.status == .notFound, "\(unknown.text)")
            #expect(unknown.json?["code"] == 306, "\(unknown.text)")
            #expect(unknown.json?["details"]?["reason"] == "not_installed", "\(unknown.text)")
            #expect(unknown.headers[.retryAfter] == nil)

            for body in ["{not json", "[1, 2]", #""text""#] {
                let bad = try await client.invoke("word_count", key: tenant, body: body)
                #expect(bad.status == .badRequest && bad.json?["code"] == 202, "\(body): \(bad.text)")
            }
            let missing = try await client.invoke("word_count", key: tenant, body: "{}")
            #expect(missing.status == .badRequest && missing.json?["code"] == 101, "\(missing.text)")
        }
    }

    @Test func aStreamedCallIsServerSentEventsOverALiveServer() async throws {
        let installed = try Installed()
        defer { installed.supervisor.stop() }
        try await withGateway(installed.supervisor.socket, .live) { [tenant = installed.tenant] client in
            let text = #"{"text": "alpha beta"}"#
            let response = try await client.invoke(
                "split_words",
                key: tenant,
                body: text,
                headers: [.accept: "text/event-stream"]
            )
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            #expect(response.headers[.cacheControl] == "no-cache")
            let lines = response.text.split(separator: "\n")
            let events = lines.filter { $0.hasPrefix("event: ") }
            #expect(events == ["event: chunk", "event: chunk", "event: result"], "\(response.text)")
            let data = lines.filter { $0.hasPrefix("data: ") }.map {
                try? JSONValue(parsing: Array($0.utf8.dropFirst(6)))
            }
            #expect(data == [["word": "alpha"], ["word": "beta"], ["count": 2]], "\(response.text)")

            // Without the Accept header the same call is one JSON answer.
            let plain = try await client.invoke("split_words", key: tenant, body: text)
            #expect(plain.headers[.contentType] == "application/json", "\(plain.text)")
        }
    }

    /// What the supervisor answers an invocation with, and what the client gets.
    @Test(arguments: [
        (PaddockError(.internalError, "database is locked"), HTTPResponse.Status.internalServerError, nil as String?),
        (PaddockError(.unparsableData, "the plugin wrote garbage"), .badGateway, nil),
        (PaddockError(.timedOut, "too slow"), .gatewayTimeout, nil),
        (PaddockError(.rateLimited, "slow down", details: ["retry_after": "7"]), .tooManyRequests, "7"),
        (PaddockError(.pluginUnavailable, "restarting"), .serviceUnavailable, "1"),
        (PaddockError(.pluginCrashed, "SIGSEGV"), .serviceUnavailable, nil),
    ])
    func supervisorErrorsAreMappedToStatuses(
        error: PaddockError,
        status: HTTPResponse.Status,
        retryAfter: String?
    ) async throws {
        let standIn = try await StandInSupervisor(answers: [
            "keys.verify": .success(["valid": true, "id": "k1", "kind": "admin"]),
            "plugin": .success(["id": "p", "manifest": [:]]),
            "invoke": .failure(error),
        ])
        let response = try await withGateway(standIn.socket) { client in
            try await client.invoke("t", of: "p", key: "pdk_stand_in", body: "{}")
        }
        try await standIn.close()
        #expect(response.status == status, "\(response.text)")
        #expect(response.json?["code"] == .int(error.code.rawValue), "\(response.text)")
        #expect(response.json?["message"] == .string(error.message))
        #expect(response.headers[.retryAfter] == retryAfter)
    }
}

extension TestClientProtocol {
    /// `POST /v1/plugins/PLUGIN/tools/TOOL` with `body`, and `key` as a bearer token.
    func invoke(
        _ tool: String,
        of plugin: String = "text-tools",
        key: String?,
        body: String,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var fields = key.map { HTTPFields.bearer($0) } ?? [:]
        fields.append(contentsOf: headers)
        let uri = "/v1/plugins/\(plugin)/tools/\(tool)"
        return try await execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: body))
    }
}

extension HTTPFields {
    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue? { try? JSONValue(parsing: Array(buffer: body)) }
}
