import Foundation
import HTTPTypes
import PaddockCore
import PaddockTestSupport
import Testing

@testable import PaddockGateway

/// A plugin's endpoint answers on the gateway's origin: it may describe its
/// content and add its own headers, but cookies, CORS and the gateway's own
/// headers are not its to set.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct EndpointHeaderTests {
    @Test func anEndpointsCookiesAndCORSHeadersNeverReachTheClient() throws {
        let directory = "/tmp/paddock-test-plugins/cookies-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Fixture.writeWorldReadable(directory: directory, files: [
            "manifest.yaml": """
                name: cookies
                author: tests
                version: "1.0.0"
                type: extension
                description: answers with headers that are the gateway's
                runner: {language: python, version: "3.11", entrypoint: main.py}
                permission: {endpoints: [GET]}
                endpoints: [{provider: t, items: [{path: /set, method: GET}, {path: /go, method: GET}]}]

                """,
            "main.py": """
                from paddock_plugin import Plugin
                plugin = Plugin()

                @plugin.endpoint("GET", "/set")
                def set_headers(request, context):
                    return {"status": 200, "body": "ok", "headers": {
                        "Set-Cookie": "session=stolen; Path=/", "Access-Control-Allow-Origin": "*",
                        "Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "*",
                        "X-Request-Id": "forged", "X-Paddock-Tenant": "acme", "Strict-Transport-Security": "max-age=0",
                        "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Widget": "kept"}}

                @plugin.endpoint("GET", "/go")
                def go(request, context):
                    return {"status": 302, "body": "", "headers": {"Location": request.query.get("to", "/")}}

                """,
        ])
        let gateway = try RunningGateway()
        #expect(try gateway.paddock("install", directory).status == 0)
        #expect(try gateway.paddock("activate", "cookies").status == 0)

        let answer = try gateway.request("GET", "/e/cookies/set", key: gateway.admin, headers: ["Origin": "https://evil.example"])
        #expect(answer.status == 200 && answer.text == "ok", "\(answer.text)")
        for name in ["set-cookie", "access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers",
            "x-paddock-tenant", "strict-transport-security"]
        {
            #expect(answer.headers[name] == nil, "\(name): \(answer.headers)")
        }
        #expect(answer.headers["x-request-id"] != "forged")
        #expect(answer.headers["content-type"] == "text/plain; charset=utf-8" && answer.headers["cache-control"] == "no-store")
        #expect(answer.headers["x-widget"] == "kept")

        let inside = try gateway.request("GET", "/e/cookies/go?to=/e/cookies/set", key: gateway.admin)
        #expect(inside.status == 302 && inside.headers["location"] == "/e/cookies/set", "\(inside.headers)")
        for target in ["https://evil.example/", "//evil.example/", "/\\evil.example/"] {
            let away = try gateway.request("GET", "/e/cookies/go?to=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")", key: gateway.admin)
            #expect(away.status == 302 && away.headers["location"] == nil, "\(target): \(away.headers)")
        }
    }

    @Test func theAllowListByStatus() {
        #expect(EndpointHeaders.allows(.wwwAuthenticate, value: "Basic", status: 401))
        #expect(!EndpointHeaders.allows(.wwwAuthenticate, value: "Basic", status: 200))
        #expect(EndpointHeaders.allows(.retryAfter, value: "5", status: 503))
        #expect(!EndpointHeaders.allows(.location, value: "/ok", status: 200))
        #expect(EndpointHeaders.allows(.location, value: "/ok", status: 201))
        #expect(!EndpointHeaders.allows(.setCookie, value: "a=b", status: 200))
        #expect(!EndpointHeaders.allows(HTTPField.Name("X-Forwarded-For")!, value: "1.2.3.4", status: 200))
    }
}
