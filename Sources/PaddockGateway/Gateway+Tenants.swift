import Hummingbird
import PaddockCore

/// `/v1/tenants/{tenant}/plugins/{id}/settings[/test]`: a tenant's settings
/// and credentials as one JSON object (secrets never echoed back: `********`)
/// and the seed's "test connection".
extension Gateway {
    func tenantSettings(_ request: Request, _ context: GatewayContext, set: Bool) async throws -> Response {
        let tenant = try context.parameters.require("tenant")
        let id = try context.parameters.require("id")
        try Self.requireTenant(tenant, context)
        var params: [String: JSONValue] = ["id": .string(id), "tenant": .string(tenant)]
        if set {
            let body = try await jsonBody(request)
            params["set"] = body["settings"] ?? body
        }
        return try await relay("settings", .object(params))
    }

    /// `{"credentials"?: {...}}` to test those, else the tenant's stored ones:
    /// 200 `{"valid": true}`, or 200 `{"valid": false, "message"}`.
    func testConnection(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try context.parameters.require("tenant")
        let id = try context.parameters.require("id")
        try Self.requireTenant(tenant, context)
        var params: [String: JSONValue] = ["id": .string(id), "tenant": .string(tenant)]
        if let credentials = try await jsonBody(request)["credentials"] { params["credentials"] = credentials }
        return try await relay("credentials.test", .object(params))
    }
}
