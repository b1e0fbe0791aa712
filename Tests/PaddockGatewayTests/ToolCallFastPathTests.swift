import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

/// A tool call is answered on the connection's event loop once the gateway
/// remembers the key and the plugin (after a first call through the
/// router): the answers of both paths are the same, and a connection's
/// answers keep the order of its requests whichever path serves each.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ToolCallFastPathTests {
    static func gateway(config: String? = nil) throws -> RunningGateway {
        let gateway = try RunningGateway(config: config)
        try gateway.activate("text-tools")
        return gateway
    }

    static func post(_ gateway: RunningGateway, _ body: String, tool: String = "word_count", requestID: String? = nil) -> [UInt8] {
        var headers = ["Authorization": "Bearer \(gateway.admin)", "Content-Type": "application/json"]
        if let requestID { headers["X-Request-Id"] = requestID }
        return HTTPConnection.encode("POST", "/v1/plugins/text-tools/tools/\(tool)", headers: headers, body: Array(body.utf8))
    }

    /// The parts of an answer both paths must agree on.
    static func shape(_ response: HTTPConnection.Response) -> String {
        let names = response.headers.keys.filter { $0 != "x-request-id" && $0 != "date" }.sorted()
        return "\(response.status) \(names) \(response.text)"
    }

    @Test(arguments: [
        (#"{"text": "one two three"}"#, "word_count"),
        ("not json", "word_count"),
        ("[1, 2]", "word_count"),
        (#"{"text": 42}"#, "word_count"),
        (#"{"text": "x"}"#, "no_such_tool"),
    ])
    func bothPathsGiveTheSameAnswer(body: String, tool: String) throws {
        let gateway = try Self.gateway()
        let connection = try HTTPConnection(port: gateway.port)
        var answers: [HTTPConnection.Response] = []
        for round in 0..<3 {
            try connection.send(Self.post(gateway, body, tool: tool, requestID: "same-call-\(round)"))
            answers.append(try connection.readResponse())
        }
        #expect(Set(answers.map(Self.shape)).count == 1, "\(answers.map(Self.shape))")
        for (round, answer) in answers.enumerated() {
            #expect(answer.headers["x-request-id"] == "same-call-\(round)")
            #expect(answer.headers["date"]?.hasSuffix(" GMT") == true)
            #expect(answer.headers["server"] == "paddock-gateway")
        }
        // The gateway's log has one line per request, whichever path answered it.
        let lines = (try? String(contentsOfFile: gateway.data + "/gateway.err", encoding: .utf8)) ?? ""
        for round in 0..<3 { #expect(lines.contains("request_id=same-call-\(round)"), "\(lines)") }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let gateway = try Self.gateway()
        let connection = try HTTPConnection(port: gateway.port)
        try connection.send(Self.post(gateway, #"{"text": "warm"}"#))
        #expect(try connection.readResponse().status == 200)
        // Tool calls (answered on the loop) around a route only the router serves, in one write.
        var burst = Self.post(gateway, #"{"text": "a b c"}"#)
        burst += HTTPConnection.encode("GET", "/v1/plugins/text-tools", headers: ["Authorization": "Bearer \(gateway.admin)"])
        burst += Self.post(gateway, #"{"text": "a b"}"#)
        burst += HTTPConnection.encode("GET", "/healthz")
        burst += Self.post(gateway, #"{"text": "a"}"#)
        try connection.send(burst)
        let answers = try (0..<5).map { _ in try connection.readResponse() }
        #expect(answers.map(\.status) == [200, 200, 200, 200, 200])
        #expect(answers[0].json?["words"] == 3)
        #expect(answers[1].json?["id"] == "text-tools")
        #expect(answers[2].json?["words"] == 2)
        #expect(answers[3].json?["status"] == "ok")
        #expect(answers[4].json?["words"] == 1)
    }

    @Test func aBodyOverTheLimitIs413OnEitherPath() throws {
        let gateway = try Self.gateway(config: "limits: {body: 1KiB}\n")
        let connection = try HTTPConnection(port: gateway.port)
        try connection.send(Self.post(gateway, #"{"text": "warm"}"#))
        #expect(try connection.readResponse().status == 200)
        let large = #"{"text": "\#(String(repeating: "word ", count: 400))"}"#
        try connection.send(Self.post(gateway, large))
        let answer = try connection.readResponse()
        #expect(answer.status == 413)
        #expect(answer.json?["details"]?["limit"] == "1024")
        // The connection still serves the next request.
        try connection.send(Self.post(gateway, #"{"text": "after"}"#))
        #expect(try connection.readResponse().json?["words"] == 1)
    }

    @Test func anInvalidKeyIsRefusedAfterAValidOneWasRemembered() throws {
        let gateway = try Self.gateway()
        let connection = try HTTPConnection(port: gateway.port)
        try connection.send(Self.post(gateway, #"{"text": "warm"}"#))
        #expect(try connection.readResponse().status == 200)
        let forged = HTTPConnection.encode(
            "POST", "/v1/plugins/text-tools/tools/word_count", headers: ["Authorization": "Bearer \(gateway.admin)x"],
            body: Array(#"{"text": "x"}"#.utf8))
        try connection.send(forged)
        #expect(try connection.readResponse().status == 401)
    }
}
