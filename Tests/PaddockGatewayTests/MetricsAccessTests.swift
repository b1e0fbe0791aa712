import PaddockCore
import PaddockTestSupport
import Testing

/// What the operator's numbers are, and who reads them: `/metrics` needs an
/// admin key unless gateway.yaml says otherwise, and a tenant key sees its
/// own storage of a plugin, not the plugin's totals or deaths.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MetricsAccessTests {
    @Test func metricsNeedAnAdminKeyByDefaultAndATenantSeesOnlyItsOwnNumbers() throws {
        let gateway = try RunningGateway()
        try gateway.activate("notes")
        let acme = try gateway.key("--tenant", "acme")
        let saved = try gateway.request("POST", "/v1/plugins/notes/tools/save_note", key: acme, body: #"{"title": "t", "text": "acme's"}"#)
        #expect(saved.status == 200, "\(saved.text)")

        let anonymous = try gateway.request("GET", "/metrics")
        #expect(anonymous.status == 401 && anonymous.json?["code"] == 104 && !anonymous.text.contains("notes"), "\(anonymous.text)")
        let tenant = try gateway.request("GET", "/metrics", key: acme)
        #expect(tenant.status == 403 && !tenant.text.contains("notes"), "\(tenant.text)")
        let admin = try gateway.request("GET", "/metrics", key: gateway.admin)
        #expect(admin.status == 200 && admin.text.contains(#"paddock_plugin_running_state{plugin="notes"} 1"#))

        // Names a client makes up do not each become a series.
        for index in 0..<30 {
            _ = try gateway.request("POST", "/v1/plugins/made-up-\(index)/tools/x", key: acme, body: "{}")
        }
        let after = try gateway.request("GET", "/metrics", key: gateway.admin).text
        #expect(!after.contains("made-up-"), "\(after)")

        let asTenant = try #require(try gateway.request("GET", "/v1/plugins/notes", key: acme).json)
        for key in ["restarts", "last_death", "calls_served", "memory_bytes", "latency_p50_ms", "public_endpoints"] {
            #expect(asTenant[key] == nil, "\(key): \(asTenant)")
        }
        let acmeBytes = asTenant["storage"]?["bytes"]
        #expect(acmeBytes != nil && acmeBytes != 0, "\(asTenant)")
        let globex = try gateway.key("--tenant", "globex")
        #expect(try gateway.request("GET", "/v1/plugins/notes", key: globex).json?["storage"]?["bytes"] == 0)
        let asAdmin = try #require(try gateway.request("GET", "/v1/plugins/notes", key: gateway.admin).json)
        #expect(asAdmin["calls_served"] != nil && asAdmin["restarts"] != nil, "\(asAdmin)")
    }

    @Test func anOperatorMayOpenMetricsToAnyKeyOrNone() throws {
        let open = try RunningGateway(config: "metrics: {key: none}\n")
        #expect(try open.request("GET", "/metrics").status == 200)
        let keyed = try RunningGateway(config: "metrics: {key: any}\n")
        #expect(try keyed.request("GET", "/metrics").status == 401)
        #expect(try keyed.request("GET", "/metrics", key: try keyed.key("--tenant", "acme")).status == 200)
    }
}
