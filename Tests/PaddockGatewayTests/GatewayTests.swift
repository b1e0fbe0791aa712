import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Real HTTP against a real `paddock-gateway`, a real `paddockd` and real plugins.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct GatewayTests {
    @Test func toolsStreamsEndpointsSettingsAndTestConnectionNeedTheRightKey() throws {
        let weather = try FakeWeather()
        let gateway = try RunningGateway(weather: weather)
        try gateway.activate("text-tools")
        try gateway.activate("weather-forecast", settings: ["api_base=\(weather.base)", "api_key=test-key"])
        let acme = try gateway.key("--tenant", "acme")
        let globex = try gateway.key("--tenant", "globex")

        // A tool call; without a key or with a wrong one, 401 JSON.
        let words = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: acme, body: #"{"text": "one two"}"#)
        #expect(words.status == 200 && words.json?["words"] == 2, "\(words.text)")
        let anonymous = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", body: #"{"text": "x"}"#)
        #expect(anonymous.status == 401 && anonymous.json?["code"] == 104, "\(anonymous.text)")
        let forged = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: "pdk_000000000000_nope", body: "{}")
        #expect(forged.status == 401 && forged.headers["content-type"] == "application/json")
        let viaHeader = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", headers: ["X-Api-Key": acme], body: #"{"text": "x"}"#)
        #expect(viaHeader.status == 200)
        let invalid = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: acme, body: "{}")
        #expect(invalid.status == 400 && invalid.json?["code"] == 101, "\(invalid.text)")

        // An endpoint with query parameters: only declared methods.
        let forecast = try gateway.request("GET", "/e/weather-forecast/weather?city=Paris", key: acme)
        #expect(forecast.status == 200 && forecast.json?["city"] == "Paris", "\(forecast.text)")
        #expect(try gateway.request("GET", "/e/weather-forecast/weather?city=Paris").status == 401)
        let posted = try gateway.request("POST", "/e/weather-forecast/weather?city=Paris", key: acme)
        #expect(posted.status == 405 && posted.json?["code"] == 104, "\(posted.text)")
        let missing = try gateway.request("GET", "/e/weather-forecast/weather", key: acme)
        #expect(missing.status == 400 && missing.json?["code"] == 101)
        // Public endpoints (webhooks) need no key once the operator says so.
        let opened = try gateway.request("PUT", "/v1/plugins/weather-forecast/settings", key: gateway.admin, body: #"{"public_endpoints": true}"#)
        #expect(opened.status == 200, "\(opened.text)")
        #expect(try gateway.request("GET", "/e/weather-forecast/weather?city=Oslo").status == 200)
        #expect(try gateway.request("PUT", "/v1/plugins/weather-forecast/settings", key: acme, body: #"{"public_endpoints": false}"#).status == 403)
        _ = try gateway.request("PUT", "/v1/plugins/weather-forecast/settings", key: gateway.admin, body: #"{"public_endpoints": false}"#)
        #expect(try gateway.request("GET", "/e/weather-forecast/weather?city=Oslo").status == 401)
        #expect(try gateway.request("GET", "/e/no-such-plugin/x", key: acme).status == 404)

        // A tenant's settings: secrets never echoed; other tenants and tenant keys on admin routes refused.
        let path = "/v1/tenants/acme/plugins/weather-forecast/settings"
        let stored = try gateway.request("PUT", path, key: acme, body: #"{"api_key": "acme-secret", "units": "imperial"}"#)
        #expect(stored.status == 200, "\(stored.text)")
        #expect(stored.json?["settings"]?["api_key"] == "********" && stored.json?["settings"]?["units"] == "imperial", "\(stored.text)")
        #expect(try gateway.request("GET", path, key: acme).json?["settings"]?["api_key"] == "********")
        #expect(!(try gateway.request("GET", path, key: acme).text.contains("acme-secret")))
        #expect(try gateway.request("GET", path, key: globex).status == 403)
        #expect(try gateway.request("GET", path, key: gateway.admin).status == 200)
        #expect(try gateway.request("POST", "/v1/plugins/weather-forecast/deactivate", key: acme).status == 403)

        // Calls for acme use acme's key, which the weather service refuses: 201 → 502.
        let refused = try gateway.request("POST", "/v1/plugins/weather-forecast/tools/current_weather", key: acme, body: #"{"city": "Oslo"}"#)
        #expect(refused.status == 502 && refused.json?["code"] == 201, "\(refused.text)")
        #expect(try gateway.request("POST", "/v1/plugins/weather-forecast/tools/current_weather", key: globex, body: #"{"city": "Oslo"}"#).status == 200)

        // Test connection: failing with acme's stored key, passing once it is right.
        let failing = try gateway.request("POST", path + "/test", key: acme)
        #expect(failing.status == 200 && failing.json?["valid"] == false, "\(failing.text)")
        #expect(try gateway.request("POST", path + "/test", key: acme, body: #"{"credentials": {"api_key": "test-key"}}"#).json?["valid"] == true)
        _ = try gateway.request("PUT", path, key: acme, body: #"{"api_key": "test-key"}"#)
        #expect(try gateway.request("POST", path + "/test", key: acme).json?["valid"] == true)
        #expect(try gateway.request("POST", path + "/test", key: globex).status == 403)
    }

    @Test func streamedEventsArriveBeforeTheToolFinishes() throws {
        let gateway = try RunningGateway()
        try gateway.activate("text-tools")
        let connection = try HTTPConnection(port: gateway.port)
        let started = ContinuousClock.now
        try connection.send(HTTPConnection.encode(
            "POST", "/v1/plugins/text-tools/tools/split_words",
            headers: ["Authorization": "Bearer \(gateway.admin)", "Accept": "text/event-stream"],
            body: Array(#"{"text": "alpha beta gamma", "delay_ms": 500}"#.utf8)))
        let head = try connection.readHead()
        #expect(head.status == 200 && head.headers["content-type"] == "text/event-stream")
        var events: [(String, Duration)] = []
        while let line = try connection.readLine(), events.count < 4 {
            if line.hasPrefix("event: ") { events.append((String(line.dropFirst(7)), started.duration(to: .now))) }
        }
        #expect(events.map(\.0) == ["chunk", "chunk", "chunk", "result"], "\(events)")
        // The tool sleeps 500 ms after each word: the first word came long before the result.
        #expect(events[3].1 - events[0].1 >= .milliseconds(900), "\(events)")
    }

    @Test func killingTheSupervisorGives306FastAndItsReturnIsServedWithoutRestartingTheGateway() throws {
        let gateway = try RunningGateway()
        try gateway.activate("text-tools")
        let call = { try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: gateway.admin, body: #"{"text": "a"}"#) }
        #expect(try call().status == 200)
        gateway.killDaemon()
        let started = ContinuousClock.now
        let down = try call()
        #expect(started.duration(to: .now) < .seconds(1))
        #expect(down.status == 503 && down.json?["code"] == 306 && down.headers["retry-after"] != nil, "\(down.text)")
        #expect(try gateway.request("GET", "/readyz").status == 503)
        try gateway.restartDaemon()
        var answer = try call()
        for _ in 0..<100 where answer.status != 200 {
            usleep(50_000)
            answer = try call()
        }
        #expect(answer.status == 200, "\(answer.text)")
        #expect(try gateway.request("GET", "/readyz").status == 200)
    }

    @Test func aPluginKilledDuringACallGives503With305AndTheNextCallSucceeds() throws {
        let gateway = try RunningGateway()
        try gateway.activate("text-tools")
        let connection = try HTTPConnection(port: gateway.port)
        try connection.send(HTTPConnection.encode(
            "POST", "/v1/plugins/text-tools/tools/split_words", headers: ["Authorization": "Bearer \(gateway.admin)"],
            body: Array(#"{"text": "a b c d e f", "delay_ms": 500}"#.utf8)))
        usleep(300_000)
        let status = try JSONValue(parsing: Array(try gateway.paddock("status", "text-tools", "--json").stdout.utf8))
        guard case .int(let pid)? = status["pid"] else { Issue.record("no pid: \(status)"); return }
        kill(pid_t(pid), SIGKILL)
        let killed = try connection.readResponse()
        #expect(killed.status == 503 && killed.json?["code"] == 305, "\(killed.text)")
        var next = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: gateway.admin, body: #"{"text": "a"}"#)
        for _ in 0..<40 where next.status != 200 {
            usleep(100_000)
            next = try gateway.request("POST", "/v1/plugins/text-tools/tools/word_count", key: gateway.admin, body: #"{"text": "a"}"#)
        }
        #expect(next.status == 200, "\(next.text)")
    }

    @Test func corsPreflightPassesForAnAllowedOriginOnly() throws {
        let gateway = try RunningGateway(config: """
            cors: {origins: ["https://app.example.com"], methods: [GET, POST], headers: [Authorization, Content-Type]}
            """)
        let allowed = try gateway.request("OPTIONS", "/v1/plugins", headers: [
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        ])
        #expect(allowed.status == 204)
        #expect(allowed.headers["access-control-allow-origin"] == "https://app.example.com")
        #expect(allowed.headers["access-control-allow-methods"]?.contains("POST") == true)
        let refused = try gateway.request("OPTIONS", "/v1/plugins", headers: [
            "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST",
        ])
        #expect(refused.status == 403 && refused.headers["access-control-allow-origin"] == nil)
        let simple = try gateway.request("GET", "/healthz", headers: ["Origin": "https://app.example.com"])
        #expect(simple.headers["access-control-allow-origin"] == "https://app.example.com")
        #expect(try gateway.request("GET", "/healthz", headers: ["Origin": "https://evil.example.com"]).headers["access-control-allow-origin"] == nil)
        // Nothing is allowed by default.
        let plain = try RunningGateway()
        #expect(try plain.request("OPTIONS", "/v1/plugins", headers: [
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
        ]).status == 403)
    }

    @Test func aThousandIdleConnectionsDoNotStopANewClientAndSlowlorisIsCutOff() throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, 8192))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let gateway = try RunningGateway(config: "limits: {header_timeout: 1, idle_timeout: 120}")
        var held: [HTTPConnection] = []
        for _ in 0..<1000 {
            let connection = try HTTPConnection(port: gateway.port)
            #expect(try connection.request("GET", "/healthz").status == 200)
            held.append(connection)
        }
        let started = ContinuousClock.now
        #expect(try gateway.request("GET", "/healthz").status == 200)
        #expect(started.duration(to: .now) < .seconds(2))
        #expect(try held[0].request("GET", "/healthz").status == 200, "kept alive")

        let slow = try HTTPConnection(port: gateway.port)
        try slow.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8))
        let cut = ContinuousClock.now
        var closed = false
        for _ in 0..<8 where !closed {
            try? slow.send(Array("X-Slow: y\r\n".utf8))
            closed = slow.isClosed(within: 0.5)
        }
        #expect(closed, "the header timeout closes a client that never finishes its headers")
        #expect(cut.duration(to: .now) < .seconds(4))

        // On a kept-alive connection: idle is fine (above), a slow second request is not.
        let second = try HTTPConnection(port: gateway.port)
        #expect(try second.request("GET", "/healthz").status == 200)
        usleep(1_500_000)
        #expect(try second.request("GET", "/healthz").status == 200, "idle longer than the header timeout, then a prompt request")
        try second.send(Array("GET /healthz HTTP/1.1\r\n".utf8))
        var secondClosed = false
        for _ in 0..<8 where !secondClosed {
            try? second.send(Array("X-Slow: y\r\n".utf8))
            secondClosed = second.isClosed(within: 0.5)
        }
        #expect(secondClosed, "a slow head on a kept-alive connection is cut off too")
    }

    @Test func limitsCacheLanguageAndMetrics() throws {
        let weather = try FakeWeather()
        let gateway = try RunningGateway(weather: weather, config: """
            limits: {body: 1KiB}
            rate_limits: {per_key: {rate: 0.5, burst: 30}}
            """)
        try gateway.activate("weather-forecast", settings: ["api_base=\(weather.base)", "api_key=test-key"])
        let tenant = try gateway.key("--tenant", "acme")

        let large = try gateway.request("POST", "/v1/plugins/weather-forecast/tools/current_weather", key: tenant, body: String(repeating: " ", count: 2048))
        #expect(large.status == 413 && large.json?["code"] != nil, "\(large.text)")
        #expect(try gateway.request("GET", "/nowhere", key: tenant).status == 404)

        // current_weather declares cache_ttl: the same call again is a hit.
        let call = { (city: String) in
            try gateway.request("POST", "/v1/plugins/weather-forecast/tools/current_weather", key: tenant, body: #"{"city": "\#(city)"}"#)
        }
        let first = try call("Rome")
        #expect(first.status == 200 && first.headers["x-paddock-cache"] == "miss", "\(first.text)")
        let second = try call("Rome")
        #expect(second.headers["x-paddock-cache"] == "hit" && second.body == first.body)
        #expect(try call("Lima").headers["x-paddock-cache"] == "miss")

        let chinese = try gateway.request("GET", "/v1/plugins", key: tenant, headers: ["Accept-Language": "zh-CN,zh;q=0.9"])
        #expect(chinese.json?["plugins"]?.arrayValue?.first?["label"] == "天气预报", "\(chinese.text)")
        for odd in ["-", ">}1", "zh-", ";q=", "*"] {  // once, "-" crashed the gateway (schemathesis found it)
            #expect(try gateway.request("GET", "/v1/plugins", key: tenant, headers: ["Accept-Language": odd]).status == 200)
        }
        let french = try gateway.request("GET", "/v1/plugins/weather-forecast", key: tenant, headers: ["Accept-Language": "fr-FR"])
        #expect(french.json?["label"] == "Weather Forecast" && french.json?["description"] == "Real-time weather for a city")

        let metrics = try gateway.request("GET", "/metrics", key: gateway.admin).text
        #expect(metrics.contains(#"paddock_gateway_requests_total{route="/v1/plugins/{id}/tools/{tool}",method="POST",status="200"}"#), "\(metrics)")
        #expect(metrics.contains("paddock_gateway_request_duration_seconds_bucket"))
        #expect(metrics.contains(#"paddock_gateway_plugin_calls_total{plugin="weather-forecast",kind="tool",code="0"}"#))
        #expect(metrics.contains(#"paddock_plugin_running_state{plugin="weather-forecast"} 1"#))
        #expect(metrics.contains(#"paddock_plugin_storage_quota_bytes{plugin="weather-forecast"} 10000000"#))
        // An uninstalled plugin's figures leave the exposition.
        #expect(try gateway.request("DELETE", "/v1/plugins/weather-forecast", key: gateway.admin).status == 200)
        #expect(!(try gateway.request("GET", "/metrics", key: gateway.admin).text.contains(#"paddock_plugin_running_state{plugin="weather-forecast"}"#)))
        try gateway.activate("weather-forecast", settings: ["api_base=\(weather.base)", "api_key=test-key"])

        // The key's bucket (burst 30, half a token a second) runs dry: 429 with Retry-After.
        var limited: HTTPConnection.Response?
        for _ in 0..<40 {
            let answer = try gateway.request("GET", "/v1/plugins/weather-forecast", key: tenant)
            if answer.status == 429 {
                limited = answer
                break
            }
        }
        #expect(limited?.json?["code"] == 206 && limited?.headers["retry-after"] != nil, "\(String(describing: limited?.text))")
    }
}

/// `paddock up`: both processes, the examples, a first admin key, a clean stop.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct UpCommandTests {
    @Test func upServesTheExamplesWithThePrintedKeyAndStopsBothOnSIGTERM() throws {
        let data = "/tmp/paddock-up-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let up = try Background(ProcessRunner.product("paddock"), ["up", "--data", data, "--listen", "127.0.0.1:0"])
        var key: String?
        var url: String?
        var output: [String] = []
        while key == nil || url == nil {
            let line = up.nextLine()
            output.append(line)
            guard !line.isEmpty || output.count < 40 else { break }
            if let range = line.range(of: "Admin key (shown only now): ") { key = String(line[range.upperBound...]) }
            if let range = line.range(of: "the gateway on http://127.0.0.1:") { url = String(line[range.upperBound...]) }
        }
        guard let key, let port = url.flatMap({ Int($0) }) else {
            Issue.record("no key or address in: \(output)")
            up.stop()
            return
        }
        let words = try HTTPConnection.request(
            port: port, "POST", "/v1/plugins/text-tools/tools/word_count", headers: ["Authorization": "Bearer \(key)"],
            body: #"{"text": "hello paddock"}"#)
        #expect(words.status == 200 && words.json?["words"] == 2, "\(words.text)")
        let plugins = try HTTPConnection.request(port: port, "GET", "/v1/plugins", headers: ["Authorization": "Bearer \(key)"])
        let ids = plugins.json?["plugins"]?.arrayValue?.compactMap { $0["id"]?.stringValue }.sorted()
        #expect(ids == ["echo-swift", "mini-llm", "notes", "text-tools", "weather-forecast"], "\(plugins.text)")
        #expect(try HTTPConnection.request(port: port, "GET", "/e/echo-swift/hello?name=Ada", headers: ["Authorization": "Bearer \(key)"]).json?["greeting"] == "Hello, Ada!")

        kill(up.pid, SIGTERM)
        #expect(up.wait() == 0)
        #expect((try? HTTPConnection(port: port, timeout: 1)) == nil, "the gateway stopped with it")
        #expect(access(data + "/paddockd.sock", F_OK) != 0, "paddockd stopped and removed its socket")
    }
}

/// Tenants through the gateway: each tenant's calls keep their own storage.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TenantStorageTests {
    @Test func eachTenantSeesOnlyItsOwnNotes() throws {
        let gateway = try RunningGateway()
        try gateway.activate("notes")
        let acme = try gateway.key("--tenant", "acme")
        let globex = try gateway.key("--tenant", "globex")
        let saved = try gateway.request("POST", "/v1/plugins/notes/tools/save_note", key: acme, body: #"{"title": "acme plan", "text": "ship it"}"#)
        #expect(saved.status == 200, "\(saved.text)")
        let list = { (key: String) in try gateway.request("POST", "/v1/plugins/notes/tools/list_notes", key: key).json?["count"] }
        #expect(try list(acme) == 1)
        #expect(try list(globex) == 0)
        #expect(try list(gateway.admin) == 0, "an admin call without X-Paddock-Tenant uses the plugin's own namespace")
        let asAcme = try gateway.request("POST", "/v1/plugins/notes/tools/list_notes", key: gateway.admin, headers: ["X-Paddock-Tenant": "acme"])
        #expect(asAcme.json?["count"] == 1)
        let usage = try JSONValue(parsing: Array(try gateway.paddock("storage", "usage", "notes", "--json").stdout.utf8))
        #expect(usage["tenants"]?.arrayValue?.compactMap { $0["tenant"]?.stringValue } == ["acme"], "\(usage)")
    }
}

/// A plugin calling another plugin for a tenant: the callee gets that
/// tenant's settings, and no plugin may claim a tenant it is not serving.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct NestedTenantTests {
    @Test func aNestedCallRunsWithTheTenantsSettingsAndNoOtherTenant() throws {
        let weather = try FakeWeather()
        let gateway = try RunningGateway(weather: weather)
        try gateway.activate("weather-forecast", settings: ["api_base=\(weather.base)", "api_key=test-key"])
        let caller = "/tmp/paddock-test-plugins/forwarder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Fixture.writeWorldReadable(directory: caller, files: [
            "manifest.yaml": """
                name: forwarder
                author: tests
                version: "1.0.0"
                type: tool
                description: asks the weather plugin, or claims a tenant
                runner: {language: python, entrypoint: main.py}
                permission: {tools: true}
                tools:
                  - provider: t
                    items:
                      - {name: ask, parameters: [{name: city, type: string}]}
                      - {name: claim, parameters: [{name: tenant, type: string}]}

                """,
            "main.py": """
                from paddock_plugin import Plugin
                plugin = Plugin()

                @plugin.tool("ask")
                def ask(params, context):
                    return context.tools.invoke("weather-forecast", "current_weather", {"city": params["city"]})

                @plugin.tool("claim")
                def claim(params, context):
                    return context._connection.call("tool.invoke", {
                        "plugin": "weather-forecast", "tool": "current_weather", "params": {"city": "Oslo"},
                        "tenant": params["tenant"]})

                """,
        ])
        try gateway.paddock("install", caller)
        #expect(try gateway.paddock("activate", "forwarder").status == 0)
        let acme = try gateway.key("--tenant", "acme")
        let globex = try gateway.key("--tenant", "globex")
        _ = try gateway.request("PUT", "/v1/tenants/acme/plugins/weather-forecast/settings", key: acme, body: #"{"api_key": "wrong"}"#)

        let ask = { (key: String) in
            try gateway.request("POST", "/v1/plugins/forwarder/tools/ask", key: key, body: #"{"city": "Oslo"}"#)
        }
        #expect(try ask(globex).status == 200, "globex has no settings of its own: the plugin's key works")
        let refused = try ask(acme)
        #expect(refused.status == 502 && refused.json?["code"] == 201, "acme's own (wrong) key was used: \(refused.text)")
        let claimed = try gateway.request("POST", "/v1/plugins/forwarder/tools/claim", key: globex, body: #"{"tenant": "acme"}"#)
        #expect(claimed.status == 403 && claimed.json?["code"] == 104, "\(claimed.text)")
    }
}

/// `paddock-gateway --config`: a bad configuration is refused before serving.
@Suite struct GatewayConfigurationTests {
    @Test(arguments: [
        "limits: {body: 0}", "rate_limits: {per_key: {rate: 0}}", "cors: {origin: [x]}", "limits: [1, 2]",
        "limits: {idle_timeout: 1e300}", "limits: {call_timeout: -1}", "metrics: {key: everyone}",
    ])
    func aBadConfigurationIsACodedErrorAndNoServer(config: String) throws {
        let path = "/tmp/paddock-gateway-config-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).yaml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let result = try ProcessRunner.run(
            ProcessRunner.product("paddock-gateway"), ["--config", path, "--listen", "127.0.0.1:0", "--supervisor", "/nonexistent.sock"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error 102:"), "\(result.stdout)\(result.stderr)")
    }
}
