import HTTPTypes
import Hummingbird
import PaddockControl
import PaddockCore

/// `/v1/flows...`: a tenant's flows (docs/flows.md). A tenant key works in
/// its own tenant; an admin key names one with `X-Paddock-Tenant`.
extension Gateway {
    func putFlow(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let tenant = try Self.requiredTenant(request, context)
        let bytes = Array(buffer: try await request.body.collect(upTo: configuration.maximumBodyBytes))
        let definition: JSONValue
        do throws(PaddockError) {
            definition = try FlowDefinition.document(bytes)
        } catch {
            throw GatewayError(error, fromRequest: true)
        }
        let answer = try await supervisor.json(
            .flowPut, FlowPutRequest(tenant: tenant, id: id, definition: definition).params, requestID: context.requestID)
        return Self.json(answer, status: answer["created"] == true ? .created : .ok)
    }

    /// `GET`, `DELETE /v1/flows/{id}`, `GET /v1/flows/{id}/runs`, `GET /v1/flows`.
    func flow(_ method: ControlMethod, _ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try Self.requiredTenant(request, context)
        let id = context.parameters.get("id") ?? ""
        return try await relay(method, TenantRequest(tenant: tenant, id: id).params, context)
    }

    func showFlowRun(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try Self.requiredTenant(request, context)
        let id = try context.parameters.require("id")
        let record = try await supervisor.json(
            .flowShow, FlowShowRequest(tenant: tenant, run: try context.parameters.require("run")).params, requestID: context.requestID)
        guard record["flow"] == .string(id) else { throw GatewayError(Self.noRun) }
        return Self.json(record)
    }

    /// `POST /v1/flows/{id}/runs`: `{"input": {...}}` → `{"run", "status", "output"}`;
    /// with `Accept: text/event-stream`, `node_started`, `node_finished` and
    /// `node_skipped` events as the nodes go, then `result` or `error`.
    func runFlow(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let tenant = try Self.requiredTenant(request, context)
        let body = try await jsonBody(request)
        if case .object(let fields) = body, let unknown = fields.keys.sorted().first(where: { $0 != "input" }) {
            throw GatewayError(PaddockError(.wrongFormat, "a run takes {\"input\": {...}}, not '\(unknown.prefix(64))'", field: unknown), fromRequest: true)
        }
        let input = body["input"] ?? [:]
        guard case .object = input else {
            throw GatewayError(PaddockError(.wrongFormat, "input is an object", field: "input"), fromRequest: true)
        }
        var run = FlowRunRequest(tenant: tenant, id: id, input: input, requestID: context.requestID)
        if request.headers[.accept]?.contains("text/event-stream") == true {
            run.stream = true
            return stream(.flowRun, run.params, plugin: nil, kind: "flow", events: .flow)
        }
        let supervisor = self.supervisor
        return Self.raw(
            try await DisconnectWatcher.whileConnected(context.channel) { [run] in
                try await supervisor.call(.flowRun, run.params, registerCancel: $0)
            })
    }

    static let noRun = PaddockError(.pluginUnavailable, "this flow has no such run", reason: .notInstalled)

    /// The tenant flows and files are for: a tenant key's own; an admin key's `X-Paddock-Tenant`.
    /// - Throws: 400 (101) for an admin key that names none.
    static func requiredTenant(_ request: Request, _ context: GatewayContext) throws(GatewayError) -> String {
        guard let tenant = tenant(request, context) else {
            throw GatewayError(
                PaddockError(.configurationMissing, "flows and files belong to a tenant: with an admin key, name one in X-Paddock-Tenant", field: "X-Paddock-Tenant"),
                fromRequest: true)
        }
        return tenant
    }
}

extension Gateway.EventFormat {
    /// A flow's: each node event under its own name (`node_started`, ...), then `result` or `error`.
    static let flow = Gateway.EventFormat(
        chunk: { chunk in
            let name = (try? JSONValue(parsing: chunk))?["event"]?.stringValue ?? "node"
            return Gateway.event(name, chunk)
        },
        result: { Gateway.event("result", $0) },
        error: { Gateway.event("error", Gateway.errorBody($0)) })
}
