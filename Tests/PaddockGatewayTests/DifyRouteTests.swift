import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

/// Through the gateway a Dify tool plugin is called like any other (blocking
/// and server-sent events), its credentials are tested per tenant, and a
/// Dify endpoint plugin answers under `/e/{plugin}/...` with its own status,
/// headers and body.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: DifyPlugins.hasPython, "needs a Python 3.12 or newer under /root/.pyenv"))
struct DifyRouteTests {
    private func stack(_ plugins: String...) throws -> RunningGateway {
        let stack = try RunningGateway()
        try DifyPlugins.shareEnvironments(stack.data)
        for plugin in plugins {
            let installed = try stack.paddock("install", DifyPlugins.folder(plugin))
            try #require(installed.status == 0, "\(installed.stderr)")
            let activated = try stack.paddock("activate", plugin)
            try #require(activated.status == 0, "\(activated.stderr)")
        }
        return stack
    }

    @Test func aDifyToolIsCalledLikeAnyOtherAndStreams() throws {
        let stack = try stack("dify_messages")
        let tenant = try stack.key("--tenant", "acme")
        let body = #"{"text": "web", "count": 2}"#
        let call = try stack.request("POST", "/v1/plugins/dify_messages/tools/showcase", key: tenant, body: body)
        #expect(call.status == 200, "\(call.text)")
        let messages = call.json?["messages"]?.arrayValue ?? []
        #expect(messages.compactMap { $0["type"]?.stringValue } == ["text", "json", "link", "image", "variable", "blob"], "\(call.text.prefix(500))")

        let events = try stack.request(
            "POST", "/v1/plugins/dify_messages/tools/showcase", key: tenant, headers: ["Accept": "text/event-stream"], body: body)
        #expect(events.status == 200 && events.headers["content-type"] == "text/event-stream")
        #expect(events.text.components(separatedBy: "event: chunk").count - 1 == 6, "\(events.text.prefix(800))")
        #expect(events.text.contains("event: result"))

        // Inputs are checked against the Dify tool's yaml by the host; a raising tool is 203.
        #expect(try stack.request("POST", "/v1/plugins/dify_messages/tools/showcase", key: tenant, body: #"{"count": 2}"#).json?["code"] == .int(101))
        let failed = try stack.request("POST", "/v1/plugins/dify_messages/tools/fail", key: tenant, body: "{}")
        #expect(failed.json?["code"] == .int(203) && failed.text.contains("the input was refused"), "\(failed.text)")

        // Each tenant its own credentials, checked by the plugin's provider.
        let test = "/v1/tenants/acme/plugins/dify_messages/settings/test"
        let bad = try stack.request("POST", test, key: tenant, body: #"{"credentials": {"api_key": "bad"}}"#)
        #expect(bad.json?["valid"] == .bool(false) && bad.text.contains("bad key"), "\(bad.text)")
        let good = try stack.request("POST", test, key: tenant, body: #"{"credentials": {"api_key": "good"}}"#)
        #expect(good.json?["valid"] == .bool(true), "\(good.text)")
    }

    @Test func aDifyEndpointAnswersWithItsOwnStatusHeadersAndBody() throws {
        let stack = try stack("dify_endpoint")
        let key = try stack.key("--tenant", "acme")
        let hello = try stack.request("GET", "/e/dify_endpoint/hello?name=Ada", key: key)
        #expect(hello.status == 200 && hello.text == "hello, Ada", "\(hello.status) \(hello.text)")
        #expect(hello.headers["x-plugin"] == "dify", "\(hello.headers)")
        let echo = try stack.request("POST", "/e/dify_endpoint/echo", key: key, headers: ["Content-Type": "application/json"], body: #"{"a": 1}"#)
        #expect(echo.status == 201 && echo.text == #"{"a": 1}"# && echo.headers["x-echo-length"] == "8", "\(echo.status) \(echo.text) \(echo.headers)")
        let item = try stack.request("GET", "/e/dify_endpoint/items/42", key: key)
        #expect(item.status == 200 && item.json == ["item": "42"], "\(item.text)")
        // A method the plugin does not serve: 405, coded.
        #expect(try stack.request("DELETE", "/e/dify_endpoint/hello", key: key).status == 405)
    }
}
