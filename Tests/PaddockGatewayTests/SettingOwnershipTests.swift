import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

/// Settings have an owner: a tenant can set only what the manifest lets
/// tenants set, cannot read the operator's values, and never gets the
/// operator's secret sent where its own values point, through calls or
/// "test connection". With the shipped weather plugin and a real stack.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SettingOwnershipTests {
    @Test func aTenantThatChangesWhereCallsGoNeverGetsTheOperatorsSecretSentThere() throws {
        let weather = try FakeWeather()
        let gateway = try RunningGateway(weather: weather)
        try gateway.activate("weather-forecast", settings: ["api_base=\(weather.base)", "api_key=test-key"])
        let acme = try gateway.key("--tenant", "acme")
        let globex = try gateway.key("--tenant", "globex")
        let path = "/v1/tenants/acme/plugins/weather-forecast/settings"
        let call = { (key: String) in
            try gateway.request("POST", "/v1/plugins/weather-forecast/tools/current_weather", key: key, body: #"{"city": "Oslo"}"#)
        }
        // A tenant that sets nothing, or only a choice the manifest bounds, runs on the operator's configuration.
        #expect(try call(globex).status == 200)
        #expect(try gateway.request("PUT", path, key: acme, body: #"{"units": "imperial"}"#).status == 200)
        #expect(try call(acme).status == 200)

        // acme points the plugin at "its" server (here the same stand-in, which would accept the operator's key):
        // the operator's key is withheld, so the call has no key at all.
        #expect(try gateway.request("PUT", path, key: acme, body: #"{"api_base": "\#(weather.base)"}"#).status == 200)
        let redirected = try call(acme)
        #expect(redirected.status == 400 && redirected.json?["code"] == 101, "\(redirected.text)")
        // Test connection with a destination the tenant gives: the stored operator secret is not tried there either.
        for body in [#"{"credentials": {"api_base": "\#(weather.base)"}}"#, "{}"] {
            let tested = try gateway.request("POST", path + "/test", key: acme, body: body)
            // Refused either way: no key to try (101), or a key that is not the operator's.
            #expect(tested.json?["valid"] != true && (tested.status == 400 || tested.status == 200), "\(body): \(tested.text)")
        }
        // The tenant reads its own values, and of the operator's only whether they are set.
        let view = try gateway.request("GET", path, key: acme)
        #expect(!view.text.contains("test-key") && view.json?["operator_set"]?["api_key"] == true, "\(view.text)")
        #expect(view.json?["settings"]?["api_base"] == .string(weather.base) && view.json?["settings"]?["api_key"] == nil)

        // With complete credentials of its own, the tenant's calls work.
        #expect(try gateway.request("PUT", path, key: acme, body: #"{"api_key": "test-key"}"#).status == 200)
        #expect(try call(acme).status == 200)
        #expect(try gateway.request("POST", path + "/test", key: acme).json?["valid"] == true)
        #expect(try call(globex).status == 200, "other tenants are untouched")
    }

    @Test func operatorSettingsCannotBeSetOrReadByATenant() throws {
        let directory = "/tmp/paddock-test-plugins/owned-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Fixture.writeWorldReadable(directory: directory, files: [
            "manifest.yaml": """
                name: owned
                author: tests
                version: "1.0.0"
                type: tool
                description: settings of both owners
                runner: {language: python, version: "3.11", entrypoint: main.py}
                settings:
                  - {name: endpoint, type: string, default: "https://operator.example"}
                  - {name: token, type: secret}
                  - {name: style, type: select, options: [short, long], default: short, scope: tenant}
                tools: [{provider: t, items: [{name: show}]}]

                """,
            "main.py": """
                from paddock_plugin import Plugin
                plugin = Plugin()

                @plugin.tool("show")
                def show(params, context):
                    return {"endpoint": context.settings.get("endpoint"), "token": context.credentials.get("token"), "style": context.settings.get("style")}

                """,
        ])
        let gateway = try RunningGateway()
        #expect(try gateway.paddock("install", directory).status == 0)
        #expect(try gateway.paddock("settings", "owned", "--set", "endpoint=https://operator.internal", "--set", "token=op-token").status == 0)
        #expect(try gateway.paddock("activate", "owned").status == 0)
        let acme = try gateway.key("--tenant", "acme")
        let path = "/v1/tenants/acme/plugins/owned/settings"
        for body in [#"{"endpoint": "https://evil.example"}"#, #"{"token": "mine"}"#] {
            let refused = try gateway.request("PUT", path, key: acme, body: body)
            #expect(refused.status == 403 && refused.json?["code"] == 104, "\(body): \(refused.text)")
            let asAdmin = try gateway.request("PUT", path, key: gateway.admin, body: body)
            #expect(asAdmin.status == 403, "an operator's setting has no tenant value: \(asAdmin.text)")
        }
        #expect(try gateway.request("PUT", path, key: acme, body: #"{"style": "long"}"#).status == 200)
        let view = try gateway.request("GET", path, key: acme)
        #expect(!view.text.contains("operator.internal") && !view.text.contains("op-token"), "\(view.text)")
        #expect(view.json?["operator_set"] == ["endpoint": true, "token": true, "style": false], "\(view.text)")
        #expect(view.json?["tenant_may_set"] == ["style"] && view.json?["settings"] == ["style": "long"])
        let shown = try gateway.request("POST", "/v1/plugins/owned/tools/show", key: acme, body: "{}")
        #expect(shown.json == ["endpoint": "https://operator.internal", "token": "op-token", "style": "long"], "\(shown.text)")
    }
}
