import Hummingbird
import PaddockControl
import PaddockCore

/// `/v1/plugins...`: the catalog (labels and descriptions in the caller's
/// language) and, for admin keys, the lifecycle.
extension Gateway {
    func listPlugins(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let locales = AcceptLanguage.locales(request.headers[.acceptLanguage])
        var items: [JSONValue] = []
        for record in try await supervisor.json(.list, requestID: context.requestID).arrayValue ?? [] {
            guard let id = record["id"]?.stringValue, let detail = try? await catalog.detail(id) else { continue }
            items.append(Self.summary(detail.json, locales))
        }
        return Self.json(["plugins": .array(items)])
    }

    func describePlugin(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let detail = try await supervisor.json(.plugin, PluginRequest(id).params, requestID: context.requestID)
        let locales = AcceptLanguage.locales(request.headers[.acceptLanguage])
        guard case .object(var described) = Self.summary(detail, locales) else { return Self.json(detail) }
        described["manifest"] = detail["manifest"]
        if let tenant = context.caller?.tenant {
            // A tenant sees its own numbers only: its storage, not the plugin's
            // totals, deaths (their stderr) or what other tenants' calls cost.
            let usage = try await supervisor.json(.storageUsage, PluginRequest(id).params, requestID: context.requestID)
            let bytes = usage["tenants"]?.arrayValue?.first { $0["tenant"]?.stringValue == tenant }?["bytes"] ?? 0
            described["storage"] = ["bytes": bytes, "quota": usage["quota"] ?? .null]
        } else {
            for key in ["restarts", "last_death", "calls_served", "in_flight", "dropped_log_lines", "memory_bytes", "peak_memory_bytes",
                        "latency_p50_ms", "latency_p99_ms", "storage", "public_endpoints", "tenants"] {
                described[key] = detail[key]
            }
        }
        return Self.json(.object(described))
    }

    /// id, version, type, label and description in the first wanted locale, state.
    static func summary(_ detail: JSONValue, _ locales: [String]) -> JSONValue {
        let manifest = detail["manifest"]
        return [
            "id": detail["id"] ?? .null, "version": detail["version"] ?? .null, "type": manifest?["type"] ?? .null,
            "label": AcceptLanguage.pick(manifest?["label"], locales),
            "description": AcceptLanguage.pick(manifest?["description"], locales),
            "lifecycle": detail["lifecycle"] ?? .null, "state": detail["state"] ?? .null,
        ]
    }

    /// `activate`, `deactivate` or `uninstall` (never forced: a plugin with calls in flight stays).
    func lifecycle(_ method: ControlMethod, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        defer {
            catalog.forget(id)
            cache.forget(plugin: id)
        }
        return try await relay(method, method == .uninstall ? UninstallRequest(id: id).params : PluginRequest(id).params, context)
    }

    /// `PUT /v1/plugins/{id}/settings {"settings"?: {...}, "public_endpoints"?: bool, "tenants"?: [names] | ["*"]}`:
    /// the plugin's own settings (every tenant's default), secrets masked in the answer.
    func pluginSettings(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await jsonBody(request)
        var request = SettingsRequest(id: id)
        if case .object(let settings)? = body["settings"] { request.set = settings }
        if case .bool(let open)? = body["public_endpoints"] { request.publicEndpoints = open }
        if let tenants = body["tenants"] {
            do throws(PaddockError) { request.tenants = try SettingsRequest.tenants(tenants) } catch { throw GatewayError(error, fromRequest: true) }
        }
        defer {
            catalog.forget(id)
            cache.forget(plugin: id)
        }
        return try await relay(.settings, request.params, context)
    }
}
