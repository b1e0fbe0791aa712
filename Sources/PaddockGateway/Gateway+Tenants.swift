import Hummingbird
import PaddockControl
import PaddockCore

/// `/v1/tenants/{tenant}/plugins/{id}/settings[/test]`: a tenant's settings
/// and credentials as one JSON object (secrets never echoed back: `********`)
/// and the seed's "test connection".
extension Gateway {
    func tenantSettings(_ request: Request, _ context: GatewayContext, set: Bool) async throws -> Response {
        let tenant = try context.parameters.require("tenant")
        let id = try context.parameters.require("id")
        try Self.requireTenant(tenant, context)
        var settings = SettingsRequest(id: id, tenant: tenant)
        if set {
            let body = try await jsonBody(request)
            if case .object(let values) = body["settings"] ?? body { settings.set = values }
        }
        let answer = try await relay(.settings, settings.params, context)
        // Results cached for the tenant were made with its old settings.
        if set { cache.forget(plugin: id, tenant: tenant) }
        return answer
    }

    /// `{"credentials"?: {...}}` to test those, else the tenant's stored ones:
    /// 200 `{"valid": true}`, or 200 `{"valid": false, "message"}`.
    func testConnection(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try context.parameters.require("tenant")
        let id = try context.parameters.require("id")
        try Self.requireTenant(tenant, context)
        var test = CredentialsTestRequest(id: id, tenant: tenant)
        if case .object(let credentials)? = try await jsonBody(request)["credentials"] { test.credentials = credentials }
        return try await relay(.credentialsTest, test.params, context)
    }
}
