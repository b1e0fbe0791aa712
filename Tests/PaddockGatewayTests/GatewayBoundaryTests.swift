import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

/// Every gateway route with the values a hostile tenant sends, in the path,
/// the query, the headers and the body, through a real gateway and paddockd:
/// each answer is a coded error or a success, never a 500 or a dropped
/// connection, and both keep serving.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct GatewayBoundaryTests {
    static let numbers = ["0", "-1", String(Int.max), String(Int.min), String((1 << 53) + 1), "18446744073709551616", "1e400", "-0.5"]
    static let words = ["", "%00", "..", "%2e%2e%2f", "%FF%FE", String(repeating: "a", count: 4000), "a%0d%0aSet-Cookie:%20x=1"]
    static let values: [JSONValue] = [
        0, -1, .int(.max), .int(.min), .int((1 << 53) + 1), .double(1e300), -0.5, "", .string(String(repeating: "x", count: 100_000)),
        true, [], [:], nil,
    ]

    @Test func everyRouteAnswersHostileValuesWithACodeAndGoesOnServing() throws {
        let gateway = try RunningGateway()
        try gateway.activate("text-tools")
        let tenant = try gateway.key("--tenant", "acme")
        var requests: [(method: String, path: String, key: String?, headers: [String: String], body: String)] = []
        for word in Self.numbers + Self.words {
            for key in [gateway.admin, tenant] {
                requests += [
                    ("GET", "/v1/plugins/\(word)", key, [:], ""),
                    ("POST", "/v1/plugins/\(word)/tools/\(word)", key, [:], "{}"),
                    ("POST", "/v1/plugins/text-tools/tools/word_count", key, ["X-Paddock-Tenant": word.removingPercentEncoding ?? word], #"{"text": "a"}"#),
                    ("GET", "/v1/tenants/\(word)/plugins/text-tools/settings", key, [:], ""),
                    ("PUT", "/v1/tenants/\(word)/plugins/\(word)/settings", key, [:], #"{"a": 1}"#),
                    ("POST", "/v1/tenants/acme/plugins/\(word)/settings/test", key, [:], "{}"),
                    ("GET", "/v1/plugins/text-tools/logs?tail=\(word)", key, [:], ""),
                    ("GET", "/v1/plugins?limit=\(word)", key, [:], ""),
                    ("POST", "/v1/plugins/\(word)/activate", key, [:], ""),
                    ("DELETE", "/v1/plugins/\(word)", key, [:], ""),
                    ("GET", "/e/\(word)/\(word)?x=\(word)", key, [:], ""),
                ]
            }
        }
        for value in Self.values {
            let text = value.jsonText
            requests += [
                ("POST", "/v1/plugins/text-tools/tools/split_words", gateway.admin, [:], #"{"text": "a b", "delay_ms": \#(text)}"#),
                ("POST", "/v1/plugins/text-tools/tools/slugify", tenant, [:], #"{"text": \#(text), "separator": \#(text)}"#),
                ("POST", "/v1/plugins/text-tools/tools/json_path", gateway.admin, [:], #"{"document": {"a": \#(text)}, "path": \#(text)}"#),
                ("PUT", "/v1/tenants/acme/plugins/text-tools/settings", tenant, [:], #"{"x": \#(text)}"#),
                ("PUT", "/v1/plugins/text-tools/settings", gateway.admin, [:], #"{"x": \#(text)}"#),
                ("POST", "/v1/plugins/text-tools/tools/word_count", gateway.admin, [:], text),
            ]
        }
        for request in requests {
            let label = "\(request.method) \(request.path.prefix(100)) \(request.headers.mapValues { $0.prefix(40) }) \(request.body.prefix(60))"
            let response = try gateway.request(request.method, request.path, key: request.key, headers: request.headers, body: request.body)
            #expect(response.status != 500 && (200...504).contains(response.status), "\(label): \(response.status) \(response.text.prefix(200))")
            if response.status >= 400 {
                let code = response.json?["code"]
                #expect(code.map { if case .int(let n) = $0 { (101...399).contains(n) } else { false } } == true, "\(label): \(response.text.prefix(200))")
            }
            #expect(response.headers["set-cookie"] == nil, "\(label)")
        }
        let tail = try gateway.request("GET", "/v1/plugins/text-tools/logs?tail=-1", key: gateway.admin)
        #expect(tail.status == 400 && tail.json?["code"] == 102 && tail.json?["details"]?["field"] == "tail", "\(tail.text)")
        let nul = try gateway.request("GET", "/v1/plugins", key: gateway.admin, headers: ["X-Paddock-Tenant": "\0"])
        #expect(nul.status == 400 && nul.json?["code"] == 202 && nul.headers["connection"] == "close", "\(nul.text)")
        let after = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: tenant, body: #"{"text": "still serving"}"#)
        #expect(after.status == 200 && after.json?["words"] == 2, "\(after.text)")
        #expect(try gateway.paddock("list").status == 0)
    }
}
