import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// `X-Request-Id`: the client's (or a new one) comes back on every answer
/// and goes down with the call, to paddockd's log, the plugin and its log.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RequestIDTests {
    /// A plugin that tells which request it serves, from a tool and an endpoint, and logs it.
    static func tracer() throws -> String {
        let directory = "/tmp/paddock-test-plugins/tracer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Fixture.writeWorldReadable(directory: directory, files: [
            "manifest.yaml": """
                name: tracer
                author: tests
                version: "1.0.0"
                type: tool
                description: says which request it serves
                runner: {language: python, entrypoint: main.py}
                permission: {endpoints: [GET]}
                tools:
                  - provider: t
                    items:
                      - {name: trace, parameters: []}
                endpoints:
                  - provider: t
                    items:
                      - {path: /trace, method: GET, parameters: []}

                """,
            "main.py": """
                import logging
                from paddock_plugin import Plugin
                plugin = Plugin()

                @plugin.tool("trace")
                def trace(params, context):
                    context.log("tracing")
                    logging.getLogger("tracer").warning("tracing through logging")
                    return {"request_id": context.request_id}

                @plugin.endpoint("GET", "/trace")
                def trace_endpoint(request, context):
                    return {"body": {"request_id": context.request_id, "header": request.headers.get("x-request-id")}}

                """,
        ])
        return directory
    }

    @Test func aValidIDComesBackOnSuccessesErrorsAndStreamsAndReachesThePluginAndTheLogs() throws {
        let gateway = try RunningGateway()
        try gateway.activate("text-tools")
        try gateway.paddock("install", try Self.tracer())
        #expect(try gateway.paddock("activate", "tracer").status == 0)
        let acme = try gateway.key("--tenant", "acme")
        let id = "req-\(getpid()).a_b:c"
        let tagged = ["X-Request-Id": id]

        let words = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: acme, headers: tagged, body: #"{"text": "a"}"#)
        #expect(words.status == 200 && words.headers["x-request-id"] == id, "\(words.headers)")
        // Errors: from the supervisor (400), the keys (401), the router (404).
        let invalid = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: acme, headers: tagged, body: "{}")
        #expect(invalid.status == 400 && invalid.headers["x-request-id"] == id, "\(invalid.headers)")
        let anonymous = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", headers: tagged)
        #expect(anonymous.status == 401 && anonymous.headers["x-request-id"] == id)
        let nowhere = try gateway.request("GET", "/nowhere", headers: tagged)
        #expect(nowhere.status == 404 && nowhere.headers["x-request-id"] == id)

        // Server-sent events: the id is in the head, before the first event.
        let connection = try HTTPConnection(port: gateway.port)
        try connection.send(HTTPConnection.encode(
            "POST", "/v1/plugins/text-tools/tools/split_words",
            headers: ["Authorization": "Bearer \(acme)", "Accept": "text/event-stream", "X-Request-Id": id],
            body: Array(#"{"text": "alpha beta"}"#.utf8)))
        let head = try connection.readHead()
        #expect(head.status == 200 && head.headers["content-type"] == "text/event-stream" && head.headers["x-request-id"] == id)

        // The plugin gets it with a tool call and an endpoint call, and its log lines carry it.
        let traced = try gateway.request("POST", "/v1/plugins/tracer/tools/trace", key: acme, headers: tagged)
        #expect(traced.status == 200 && traced.json?["request_id"]?.stringValue == id, "\(traced.text)")
        let endpoint = try gateway.request("GET", "/e/tracer/trace", key: acme, headers: tagged)
        #expect(endpoint.status == 200 && endpoint.headers["x-request-id"] == id, "\(endpoint.text)")
        #expect(endpoint.json?["request_id"]?.stringValue == id && endpoint.json?["header"]?.stringValue == id, "\(endpoint.text)")

        // paddockd's line for the call and the gateway's for the request were
        // written before the answer left.
        let daemonLine = gateway.daemonLog.split(separator: "\n").first { $0.contains("method=invoke") && $0.contains("plugin=tracer") }
        #expect(daemonLine?.contains("request_id=\(id)") == true && daemonLine?.contains("tenant=acme") == true, "\(gateway.daemonLog)")
        let gatewayLog = gateway.gatewayLog
        let access = gatewayLog.split(separator: "\n").first { $0.contains("path=/v1/plugins/tracer/tools/trace") }
        #expect(access?.hasPrefix("paddock-gateway: request ") == true, "\(gatewayLog)")
        for field in ["request_id=\(id)", "method=POST", "status=200", "tenant=acme", "duration_ms="] {
            #expect(access?.contains(field) == true, "\(field) in \(String(describing: access))")
        }
        #expect(!gatewayLog.contains(acme) && !gateway.daemonLog.contains(acme), "no key in the logs")

        // The plugin's own lines (`paddock logs` waits until its log is written).
        let log = try gateway.paddock("logs", "tracer", "--tail", "50").stdout
        let lines = log.split(separator: "\n").filter { $0.contains("tracing") }
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains(" call=") }, "\(log)")
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains(" request=\(id) ") }, "\(log)")
    }

    @Test func anInvalidOrMissingIDIsReplacedByANewOne() throws {
        let gateway = try RunningGateway()
        try gateway.paddock("install", try Self.tracer())
        #expect(try gateway.paddock("activate", "tracer").status == 0)
        let tooLong = String(repeating: "a", count: 129)
        var seen: Set<String> = []
        for bad in ["two words", tooLong, "naïve", "a/b", "<script>", ""] {
            let answer = try gateway.request("GET", "/healthz", headers: ["X-Request-Id": bad])
            let given = try #require(answer.headers["x-request-id"], "\(answer.headers)")
            #expect(given != bad && given.count == 32 && given.allSatisfy(\.isHexDigit), "\(bad) → \(given)")
            seen.insert(given)
        }
        let untagged = try gateway.request("GET", "/healthz")
        seen.insert(try #require(untagged.headers["x-request-id"]))
        #expect(seen.count == 7, "each request gets an id of its own: \(seen)")
        #expect(try gateway.request("GET", "/healthz", headers: ["X-Request-Id": String(repeating: "b", count: 128)])
            .headers["x-request-id"] == String(repeating: "b", count: 128))

        // What the plugin and paddockd see is the replacement.
        let traced = try gateway.request("POST", "/v1/plugins/tracer/tools/trace", key: gateway.admin, headers: ["X-Request-Id": "two words"])
        let replacement = try #require(traced.headers["x-request-id"])
        #expect(traced.json?["request_id"]?.stringValue == replacement, "\(traced.text)")
        let endpoint = try gateway.request("GET", "/e/tracer/trace", key: gateway.admin, headers: ["X-Request-Id": "two words"])
        #expect(endpoint.json?["header"]?.stringValue == endpoint.headers["x-request-id"], "\(endpoint.text)")
        #expect(gateway.daemonLog.contains("request_id=\(replacement)"), "\(gateway.daemonLog)")
        #expect(!gateway.gatewayLog.contains("two words"), "\(gateway.gatewayLog)")
    }
}
